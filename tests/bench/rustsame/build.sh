#!/usr/bin/env bash
# Builds the Rust same-work anchor (wasm + JS shim) into ./build with the same toolchain, flags
# and profile as the edge worker (scripts/build-worker). Called by this directory's wrangler.toml.
set -euo pipefail
source "$(dirname "$0")/../../../scripts/env.sh"
here="$PRISM_ROOT/tests/bench/rustsame"
stamp="$here/build/.built"
if [[ -f "$stamp" && -f "$here/build/index.js" ]] \
   && [[ -z "$(find "$here/src" "$here/Cargo.toml" "$PRISM_ROOT/Cargo.lock" -newer "$stamp" -print -quit)" ]]; then
  exit 0
fi
worker_build_env
command -v worker-build >/dev/null || die "worker-build is not installed: run scripts/setup"
started=$(mktemp)
cd "$here"
worker-build --release >&2
mv "$started" "$stamp"
