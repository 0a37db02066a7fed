// CPU profile of a running local worker through the V8 inspector (wrangler dev --inspector-port):
//   node tests/bench/profile.mjs <inspector-port> <seconds> [out.cpuprofile] [target-regex]
// Prints the functions with the most self time (wasm functions by name), for finding where a
// benchmark's time goes inside workerd.
import { connect, targets as list } from "./cdp.mjs";
import { writeFileSync } from "node:fs";

const [port, secs = "10", out, only] = process.argv.slice(2);
// A runtime's own inspector lists its internal workers too (D1, KV, ...); `target-regex`
// (e.g. `prismai-edge`) profiles only the matching ones.
const targets = (await list(port)).filter((t) => !only || new RegExp(only).test(t.id));
const results = [];
for (const t of targets) {
  const url = t.webSocketDebuggerUrl;
  if (!url) continue;
  const { send, close } = await connect(url);
  await send("Profiler.enable");
  // 250 µs: at V8's default (1 ms) a few seconds of a busy benchmark gave too few samples.
  await send("Profiler.setSamplingInterval", { interval: 250 });
  await send("Profiler.start");
  results.push({ t, close, send });
}
await new Promise((r) => setTimeout(r, Number(secs) * 1000));
for (const { t, close, send } of results) {
  const { result } = await send("Profiler.stop");
  const p = result.profile;
  if (out) writeFileSync(`${out}.${results.indexOf(results.find((r) => r.t === t))}.cpuprofile`, JSON.stringify(p));
  const self = new Map();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const s of p.samples) counts.set(s, (counts.get(s) || 0) + 1);
  let total = 0;
  for (const [nid, c] of counts) {
    const n = byId.get(nid);
    const name = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url ? n.callFrame.url.split("/").pop() : ""}`.trim();
    self.set(name, (self.get(name) || 0) + c);
    total += c;
  }
  console.log(`== ${t.title || t.url} (${total} samples)`);
  for (const [name, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
  close();
}
