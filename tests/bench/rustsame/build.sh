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
export PATH="$PRISM_TOOLS_DIR/bin:$PATH"
[[ -x "$PRISM_ROOT/node_modules/binaryen/bin/wasm-opt" ]] && export WASM_OPT_BIN="$PRISM_ROOT/node_modules/binaryen/bin/wasm-opt"
[[ -x "$PRISM_ROOT/node_modules/@esbuild/linux-x64/bin/esbuild" ]] && export ESBUILD_BIN="$PRISM_ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
[[ -x "$PRISM_TOOLS_DIR/bin/wasm-bindgen" ]] && export WASM_BINDGEN_BIN="$PRISM_TOOLS_DIR/bin/wasm-bindgen"
export XDG_CACHE_HOME="$PRISM_ROOT/target/.cache"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} -C target-feature=+simd128"
if ! has_rust_target wasm32-unknown-unknown; then
  export PATH="$PRISM_ROOT/scripts/shims:/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD="std,panic_abort"
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="${WASM_LD:-wasm-ld-16}"
fi
command -v worker-build >/dev/null || die "worker-build is not installed: run scripts/setup"
started=$(mktemp)
cd "$here"
worker-build --release >&2
mv "$started" "$stamp"
