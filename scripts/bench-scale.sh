#!/usr/bin/env bash
# Issue 17's benchmarks, SQLite and PostgreSQL side by side (release build;
# PostgreSQL on 127.0.0.1:5432, user postgres; each run in a new database,
# dropped after):
#   on-call lookups (wrk), publish of a 2,000-person month (3,500 staff) and its notices
#   sent by two workers, 20 coordinators editing over two instances, and
#   db copy of the 1,000-staff network with 12 months of rotas.
# Usage: scripts/bench-scale.sh [oncall|notify|edits|copy]...  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/touban/target}
cargo build --release --locked -q -p touban-cli
BIN="$TARGET/release/touban"
PG=postgres://postgres@127.0.0.1:5432
TMP=$(mktemp -d)
DBS=()
newdb() { local n="touban_bench_$1_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $n" >/dev/null; DBS+=("$n"); echo "$PG/$n"; }
cleanup() {
  for d in "${DBS[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
WHAT=("$@")
[ ${#WHAT[@]} -eq 0 ] && WHAT=(oncall notify edits copy)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(psql -h 127.0.0.1 -U postgres -Atc 'select version()' | cut -d' ' -f1-2)"
for w in "${WHAT[@]}"; do
  case "$w" in
    oncall)
      bash scripts/bench-oncall.sh 20 32 sqlite | grep -E "backend|Requests/sec|Latency|99%"
      bash scripts/bench-oncall.sh 20 32 postgres | grep -E "backend|Requests/sec|Latency|99%" ;;
    notify)
      VENV=$(bash scripts/venv.sh)
      for backend in sqlite postgres; do
        PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        rm -rf "$TMP/mail"
        "$VENV/bin/python" tests/smtp/sink.py --port "$PORT" --dir "$TMP/mail" > "$TMP/sink.out" &
        SINK=$!
        for _ in $(seq 1 100); do grep -q ready "$TMP/sink.out" 2>/dev/null && break; sleep 0.1; done
        if [ "$backend" = sqlite ]; then DB="$TMP/notify.db"; else DB=$(newdb notify); fi
        echo "== notify, $backend, 2 workers"
        "$BIN" bench notify --staff 3500 --services 200 --concurrency 8 --workers 2 --smtp "smtp://127.0.0.1:$PORT" --db "$DB"
        echo "SMTP server received $(ls "$TMP/mail" | wc -l) messages"
        kill $SINK; wait $SINK 2>/dev/null || true
      done ;;
    edits)
      echo "== edits, sqlite"
      "$BIN" bench edits --db "$TMP/edits.db" --instances 2 --coordinators 20 --rounds 5
      echo "== edits, postgres"
      "$BIN" bench edits --db "$(newdb edits)" --instances 2 --coordinators 20 --rounds 5 ;;
    copy)
      echo "== db copy"
      "$BIN" bench copy --staff 1000 --services 60 --months 12 --to "$(newdb copy)" ;;
    *) echo "bench-scale: unknown part $w" >&2; exit 2 ;;
  esac
done
