#!/usr/bin/env bash
# The Python tools the tests use, from PyPI, in one venv under ~/.cache/touban
# (outside the clone, reused by CI): aiosmtpd (the real SMTP server the
# notifier's tests send to) and schemathesis (the API spec check).
# Idempotent; prints the venv's path.
set -euo pipefail
VENV=${TOUBAN_VENV:-$HOME/.cache/touban/venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "venv: creating $VENV" >&2
  python3 -m venv "$VENV"
fi
need=()
"$VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null || need+=('aiosmtpd>=1.4,<2')
[ -x "$VENV/bin/schemathesis" ] || need+=('schemathesis>=4,<5')
if [ ${#need[@]} -gt 0 ]; then
  echo "venv: installing ${need[*]}" >&2
  "$VENV/bin/pip" install -q "${need[@]}"
fi
echo "$VENV"
