#!/usr/bin/env bash
# Runs Schemathesis (from PyPI, in a venv under ~/.cache/touban) against the
# API's own OpenAPI description, served by a real `touban serve` on a
# loopback port with the demo network and a generated rota, as each role
# (admin, coordinator, institution, staff). Fails on any server error and on
# any response whose status, content type, headers or body the spec does not
# describe.
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
token() { "$BIN" token create "$@" --label schemathesis --db "$DB" 2>/dev/null; }
REGION=southern-shimoina
declare -A TOKENS=(
  [admin]=$(token --role admin)
  [coordinator]=$(token --role coordinator --region "$REGION")
  [institution]=$(token --role institution --region "$REGION" --scope anan-hospital)
  [staff]=$(token --role staff --region "$REGION" --scope yamada-kenji)
)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

TOUBAN_API__RATE_PER_SECOND=0 TOUBAN_API__DEFAULT_TIME_LIMIT_SECONDS=5 \
  "$BIN" serve --db "$DB" --listen "127.0.0.1:$PORT" 2>"$TMP/serve.log" &
SERVER=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

# Every check on what the server answers: no server error, and status code,
# content type, headers and body each as the spec says, for each role.
# (positive_data_acceptance and negative_data_rejection are not run: they
# count a refusal of well-formed data that names nothing stored, e.g. an
# absence for staff member "0", as a failure.)
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
for role in admin coordinator institution staff; do
  echo "schemathesis: as $role" >&2
  "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    -H "Authorization: Bearer ${TOKENS[$role]}" \
    --checks "$CHECKS" \
    --max-examples "$EXAMPLES" \
    --request-timeout 30 \
    --generation-deterministic \
    --no-color || { echo "--- schemathesis failed as $role; server log ---" >&2; tail -50 "$TMP/serve.log" >&2; exit 1; }
done
