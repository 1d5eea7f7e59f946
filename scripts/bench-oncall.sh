#!/usr/bin/env bash
# On-call lookup throughput and latency: a release `touban serve` with the
# demo network and a published January, loaded by wrk (Debian package) on
# loopback. Usage: scripts/bench-oncall.sh [SECONDS] [CONNECTIONS] [sqlite|postgres]
# (postgres: a new database on 127.0.0.1:5432, user postgres, dropped after).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-32}
BACKEND=${3:-sqlite}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/touban/target}
command -v wrk >/dev/null || { echo "bench-oncall: needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -q -p touban-cli
BIN="$TARGET/release/touban"
TMP=$(mktemp -d)
SERVER=""
PGDB=touban_bench_oncall_$$
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  [ "$BACKEND" = postgres ] && sleep 0.5 && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
case "$BACKEND" in
  sqlite) DB="$TMP/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $PGDB" >/dev/null
    DB="postgres://postgres@127.0.0.1:5432/$PGDB" ;;
  *) echo "bench-oncall: backend is sqlite or postgres, not $BACKEND" >&2; exit 2 ;;
esac
echo "backend: $BACKEND"
"$BIN" import config/networks/southern-shimoina.toml --db "$DB" >/dev/null
"$BIN" generate --month 2027-01 --time-limit 30 --db "$DB" >/dev/null 2>&1
ADMIN=$("$BIN" token create --role admin --db "$DB" 2>/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOUBAN_API__RATE_PER_SECOND=0 "$BIN" serve --db "$DB" --listen "127.0.0.1:$PORT" 2>"$TMP/serve.log" &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && break; sleep 0.1; done
API="http://127.0.0.1:$PORT/api/v1"
curl -sf -X POST "$API/regions/southern-shimoina/rotas/2027-01/versions/1/publish" \
  -H "Authorization: Bearer $ADMIN" -H 'If-Match: "2027-01-v1-draft"' >/dev/null
URL="$API/oncall?service=homecare-oncall&at=2027-01-14T23:00:00%2B09:00"
echo "answer: $(curl -s "$URL" | head -c 300)…"
curl -s "$URL" >/dev/null   # warm the cache
echo "wrk -t1 -c$CONNS -d${SECS}s --latency $URL"
wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$URL"
