// What a microtask costs in workerd, by scheduler: `/q?n=` runs n tasks one after another
// through the global `queueMicrotask`, `/p?n=` through `then` on one resolved promise (the
// same callback each time, as wasm-bindgen's futures queue does), `/none` schedules nothing.
// Run it and read the runtime process's CPU over many requests:
//   tests/bench/microtasks.sh
// (why workers/edge/src/microtasks.rs makes the futures queue use promise reactions).
const resolved = Promise.resolve();

export default {
  async fetch(req) {
    const url = new URL(req.url);
    const n = Math.max(1, Math.min(1_000_000, Number(url.searchParams.get("n")) || 100));
    const mode = url.pathname.slice(1);
    let left = n;
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const step = () => (--left > 0 ? schedule() : done());
    const schedule =
      mode === "q" ? () => queueMicrotask(step) : mode === "p" ? () => void resolved.then(step) : done;
    schedule();
    await finished;
    return new Response(mode);
  },
};
