#!/usr/bin/env bash
# Runs Schemathesis (from PyPI, in a venv under ~/.cache/touban) against the
# API's own OpenAPI description, served by a real `touban serve` on a
# loopback port with the demo network and a generated rota. Fails on any
# server error and on any response that does not match the spec.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/touban/target}
VENV=${TOUBAN_VENV:-$HOME/.cache/touban/venv}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}

TOUBAN_VENV="$VENV" bash scripts/venv.sh >/dev/null

cargo build --locked -q -p touban-cli
BIN="$TARGET/debug/touban"

TMP=$(mktemp -d)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

DB="$TMP/schemathesis.db"
"$BIN" import config/networks/southern-shimoina.toml --db "$DB" >/dev/null
"$BIN" generate --month 2027-01 --time-limit 30 --db "$DB" >/dev/null 2>&1 || true
ADMIN=$("$BIN" token create --role admin --label schemathesis --db "$DB" 2>/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

TOUBAN_API__RATE_PER_SECOND=0 TOUBAN_API__DEFAULT_TIME_LIMIT_SECONDS=5 \
  "$BIN" serve --db "$DB" --listen "127.0.0.1:$PORT" 2>"$TMP/serve.log" &
SERVER=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  -H "Authorization: Bearer $ADMIN" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$EXAMPLES" \
  --request-timeout 30 \
  --generation-deterministic \
  --no-color || { echo "--- server log ---" >&2; tail -50 "$TMP/serve.log" >&2; exit 1; }
