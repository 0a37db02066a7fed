// One Chrome DevTools Protocol session on a worker's inspector target, shared by the benchmark
// probes (profile.mjs, events.mjs, crossings.mjs). `send` resolves with the reply to its
// command; every other message (events) goes to `onEvent(message, rawBytes)`. Uses the `ws`
// package wrangler already installs.
import WebSocket from "ws";

export async function connect(debuggerUrl, onEvent = () => {}) {
  const ws = new WebSocket(debuggerUrl);
  await new Promise((ok, err) => { ws.once("open", ok); ws.once("error", err); });
  let id = 0;
  const pending = new Map();
  ws.on("message", (m) => {
    const msg = JSON.parse(m);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); return; }
    onEvent(msg, m);
  });
  const send = (method, params = {}) =>
    new Promise((ok) => { const i = ++id; pending.set(i, ok); ws.send(JSON.stringify({ id: i, method, params })); });
  return { send, close: () => ws.close() };
}

// The inspector targets a runtime lists (`/json/list` on its inspector port).
export async function targets(port) {
  return (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
}
