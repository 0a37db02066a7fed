#!/usr/bin/env bash
# CPU per microtask in workerd, global queueMicrotask against a resolved promise's then
# (tests/bench/microtasks.js). Starts `wrangler dev` on the worker, sends ROUNDS × 60 requests
# of 20,000 tasks to each scheduler, and prints the runtime process's CPU per task.
set -euo pipefail
cd "$(dirname "$0")"
port="${PORT:-28811}"
../../node_modules/.bin/wrangler dev -c microtasks.toml --port "$port" --inspector-port 0 >/tmp/microtasks.log 2>&1 &
wrangler=$!
trap 'kill $wrangler 2>/dev/null' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/none" >/dev/null && break; sleep 0.5; done
# The runtime is the workerd under this wrangler that is not its proxy (the one on $port).
proxy="$(ss -ltnp | grep ":$port " | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)"
under_wrangler() {
  local p="$1"
  for _ in 1 2 3 4; do
    p="$(ps -o ppid= -p "$p" | tr -d ' ')"
    [[ "$p" == "$wrangler" ]] && return 0
    [[ -z "$p" || "$p" == 1 ]] && return 1
  done
  return 1
}
runtime=""
for p in $(pgrep workerd || true); do
  if [[ "$p" != "$proxy" ]] && under_wrangler "$p"; then runtime="$p"; fi
done
[[ -n "$runtime" ]] || { echo "no runtime workerd found" >&2; exit 1; }
cpu() { awk '{print $14 + $15}' "/proc/$runtime/stat"; }
ticks="$(getconf CLK_TCK)"
for round in $(seq "${ROUNDS:-2}"); do
  for mode in none q p; do
    a="$(cpu)"
    for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/$mode?n=20000" >/dev/null; done
    b="$(cpu)"
    echo "round $round $mode: $(( (b - a) * 1000000000 / ticks / 1200000 )) ns CPU per task (1.2 million tasks)"
  done
done
