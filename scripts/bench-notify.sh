#!/usr/bin/env bash
# Notifier throughput: a month's notices for a generated network (default
# 2,000 staff) handed to a real SMTP server on loopback (aiosmtpd, the same
# sink the tests use, writing every message to disk). Release build.
#   scripts/bench-notify.sh [STAFF] [CONCURRENCY] [SERVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
STAFF=${1:-2000}
CONC=${2:-8}
SERVICES=${3:-120}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/touban/target}
VENV=$(bash scripts/venv.sh)
cargo build --release --locked -q -p touban-cli
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TMP=$(mktemp -d)
"$VENV/bin/python" tests/smtp/sink.py --port "$PORT" --dir "$TMP/mail" > "$TMP/sink.out" &
SINK=$!
trap 'kill $SINK 2>/dev/null; wait $SINK 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do grep -q ready "$TMP/sink.out" 2>/dev/null && break; sleep 0.1; done
"$TARGET/release/touban" bench notify --staff "$STAFF" --services "$SERVICES" --concurrency "$CONC" --smtp "smtp://127.0.0.1:$PORT"
echo "SMTP server received $(ls "$TMP/mail" | wc -l) messages ($(du -sh "$TMP/mail" | cut -f1))"
