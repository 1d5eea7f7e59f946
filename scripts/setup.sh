#!/usr/bin/env bash
# Installs what building and testing Touban needs on a fresh Debian machine.
# Idempotent: each step is skipped when what it installs is already there.
set -euo pipefail

need_apt=()
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v c++ >/dev/null 2>&1 || need_apt+=(g++)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
# bindgen (used by the HiGHS bindings) needs libclang.
ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so >/dev/null 2>&1 || need_apt+=(libclang-dev)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# The API's spec check (scripts/schemathesis.sh) makes a venv.
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# Printouts are checked as PDFs made by headless Chromium, with Japanese
# fonts (else Japanese prints as boxes) and poppler's pdfinfo/pdftotext.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust 1.95 with rustup first" >&2
  exit 1
fi
