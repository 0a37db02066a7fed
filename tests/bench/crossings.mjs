// Calls per request from wasm into JavaScript, by import. The built worker is instrumented to
// count them first (wraps every import of the wasm instance in a counter on `globalThis`),
// then counted through the runtime's inspector before and after n sequential requests:
//   node tests/bench/crossings.mjs --instrument workers/edge/build/index.js
//   PRISM_BENCH_HOLD_SECS=900 cargo run --release -p prism-e2e --bin prism_bench -- --hold
//   node tests/bench/crossings.mjs <runtime-inspector-port> <url> <n> [bearer-token]
// (The benchmark rebuilds the worker only when the sources changed, so the patch survives until
// the next build; the runtime's inspector port is the one whose /json/list names
// core:user:prismai-edge.)
import { readFileSync, writeFileSync } from "node:fs";
import { connect, targets as list } from "./cdp.mjs";

if (process.argv[2] === "--instrument") {
  const file = process.argv[3];
  let src = readFileSync(file, "utf8");
  const mod = src.match(/import (\w+) from"\.\/index_bg\.wasm";/);
  if (!mod) throw new Error("no wasm import in " + file);
  const site = new RegExp(`new WebAssembly\\.Instance\\(${mod[1]},(\\w+)\\(\\)\\)`, "g");
  const counter =
    "globalThis.__calls={};function __count(imp){for(const m of Object.keys(imp)){const o=imp[m];" +
    "for(const k of Object.keys(o)){const f=o[k];if(typeof f===\"function\"){o[k]=function(...a){" +
    "globalThis.__calls[k]=(globalThis.__calls[k]||0)+1;return f.apply(this,a)}}}}return imp}\n";
  if (src.includes("globalThis.__calls=")) throw new Error("already instrumented");
  src = src.replace(site, (_, imports) => `new WebAssembly.Instance(${mod[1]},__count(${imports}()))`);
  writeFileSync(file, src.replace(mod[0], mod[0] + counter));
  console.log("instrumented", file);
  process.exit(0);
}
const [port, url, n = "100", token] = process.argv.slice(2);
const target = (await list(port)).find((t) => t.id.startsWith("core:user:"));
const contexts = [];
const { send, close } = await connect(target.webSocketDebuggerUrl, (msg) => {
  if (msg.method === "Runtime.executionContextCreated") contexts.push(msg.params.context.id);
});
await send("Runtime.enable");
const counts = async () => {
  const r = await send("Runtime.evaluate", { expression: "JSON.stringify(globalThis.__calls ?? null)", returnByValue: true, contextId: contexts[0] });
  const v = JSON.parse(r.result?.result?.value ?? "null");
  if (!v) { console.error("no counts: is the bundle instrumented?", JSON.stringify(r).slice(0, 300)); process.exit(1); }
  return v;
};
const headers = token ? { authorization: `Bearer ${token}` } : {};
for (let i = 0; i < 5; i++) await (await fetch(url, { headers })).arrayBuffer();
const before = await counts();
for (let i = 0; i < Number(n); i++) await (await fetch(url, { headers })).arrayBuffer();
const after = await counts();
const rows = Object.keys(after).map((k) => [(after[k] - (before[k] ?? 0)) / Number(n), k]).filter(([c]) => c > 0).sort((a, b) => b[0] - a[0]);
let total = 0;
for (const [c, k] of rows) { total += c; console.log(c.toFixed(2).padStart(8), k); }
console.log(`${total.toFixed(1).padStart(8)} calls from wasm into JavaScript per request`);
close();
