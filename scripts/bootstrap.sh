#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently; quick when everything is there.
# Nothing here downloads a browser or a binary of its own: Debian packages, crates.io, npm only.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml | head -1)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "bootstrap: cannot read the pinned wasm-bindgen version from Cargo.toml" >&2; exit 1; }

log() { echo "bootstrap: $*" >&2; }

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
[ -x /usr/bin/firefox-esr ] || need_apt+=(firefox-esr)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # No --locked: the registry can lag a patch behind the CLI's own lock file.
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! command -v geckodriver >/dev/null 2>&1; then
  log "installing geckodriver"
  cargo install -q geckodriver
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi
