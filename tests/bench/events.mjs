// What a worker's requests send over its inspector, the stream `wrangler dev`'s proxy relays to
// node one fetch per event (docs/performance.md, Left):
//   node tests/bench/events.mjs <runtime-inspector-port> <url> <requests> [bearer-token]
// Attaches to the runtime workerd's own inspector (Runtime and Network enabled, as wrangler's
// proxy does), sends the requests one at a time, and prints per request the events by method
// and their bytes.
import { connect, targets as list } from "./cdp.mjs";

const [port, url, n = "100", token] = process.argv.slice(2);
const targets = await list(port);
const counts = new Map();
const sessions = [];
// The worker's own target (`core:user:<name>`) is the one wrangler's proxy relays; the others are
// miniflare's internal services (D1, KV), whose subrequests are counted apart.
const only = process.env.ALL_TARGETS ? () => true : (t) => t.id.startsWith("core:user:");
let sample;
for (const t of targets) {
  if (!t.webSocketDebuggerUrl || !only(t)) continue;
  const { send, close } = await connect(t.webSocketDebuggerUrl, (msg, m) => {
    if (!msg.method) return;
    const c = counts.get(msg.method) || { events: 0, bytes: 0 };
    c.events += 1;
    c.bytes += m.length;
    if (msg.method === "Runtime.consoleAPICalled") sample = msg;
    counts.set(msg.method, c);
  });
  await send("Runtime.enable");
  await send("Network.enable");
  sessions.push(close);
}
// Events from attaching (contexts, buffered console entries) are not the requests'.
await new Promise((r) => setTimeout(r, 500));
counts.clear();
const headers = token ? { authorization: `Bearer ${token}` } : {};
let ok = 0;
for (let i = 0; i < Number(n); i++) {
  const r = await fetch(url, { headers });
  await r.arrayBuffer();
  if (r.ok) ok += 1;
}
await new Promise((r) => setTimeout(r, 500));
const per = (v) => Math.round((v / Number(n)) * 100) / 100;
let events = 0;
let bytes = 0;
const byMethod = {};
for (const [m, c] of [...counts].sort((a, b) => b[1].events - a[1].events)) {
  byMethod[m] = { events_per_request: per(c.events), bytes_per_request: per(c.bytes) };
  events += c.events;
  bytes += c.bytes;
}
const frames = sample?.params?.stackTrace?.callFrames?.length;
console.log(JSON.stringify({ url, requests: Number(n), ok, targets: sessions.length, events_per_request: per(events), bytes_per_request: per(bytes), console_stack_frames: frames, by_method: byMethod }, null, 1));
for (const close of sessions) close();
