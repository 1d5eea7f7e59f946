#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster when it is down (the PostgreSQL
# adapter's tests use the real server on 127.0.0.1:5432, user postgres).
set -euo pipefail
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  exit 0
fi
if [ -d /etc/postgresql ]; then
  for v in /etc/postgresql/*; do
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true
  done
fi
for _ in $(seq 1 50); do
  pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && exit 0
  sleep 0.2
done
echo "postgres.sh: PostgreSQL is not running on 127.0.0.1:5432; the PostgreSQL adapter's tests will fail (the SQLite ones do not need it)" >&2
