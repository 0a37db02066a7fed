// A local stand-in for Resend's send API for scripts/dev: the edge sends account emails (console
// sign-in links, invitations) here instead of to api.resend.com, and this prints each one to the
// terminal and lists them at its own address, so a newcomer can sign in by email with no
// account anywhere. Speaks the one call the platform makes: POST /emails (JSON), answering
// {"id"} like Resend. It is also the demo tenant's outgoing webhook receiver: POST /hooks
// records each signed event (listed at /hooks). Local development only: it keeps everything in
// memory and checks no key or signature (tests verify signatures with the reference library).
//   node scripts/mail-catcher.mjs <port>
import { createServer } from "node:http";

const port = Number(process.argv[2] || 8789);
const mails = [];
const hooks = [];
const escape = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

createServer((req, res) => {
  if (req.method === "POST" && req.url === "/emails") {
    let body = "";
    req.on("data", (c) => { body += c; if (body.length > 1 << 20) req.destroy(); });
    req.on("end", () => {
      let mail;
      try { mail = JSON.parse(body); } catch { res.writeHead(422).end('{"message":"invalid JSON"}'); return; }
      const id = `local-${mails.length + 1}`;
      mails.push({ id, at: new Date().toISOString(), ...mail });
      console.log(`\n  ✉  to ${[].concat(mail.to).join(", ")}: ${mail.subject}\n${String(mail.text || "").replace(/^/gm, "     ")}\n`);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id }));
    });
    return;
  }
  if (req.method === "POST" && req.url === "/hooks") {
    let body = "";
    req.on("data", (c) => { body += c; if (body.length > 1 << 20) req.destroy(); });
    req.on("end", () => {
      let event = {};
      try { event = JSON.parse(body); } catch { /* kept as text below */ }
      hooks.push({ id: req.headers["webhook-id"], at: new Date().toISOString(), type: event.type, body });
      console.log(`  ↪  webhook ${event.type || "(unreadable)"} ${req.headers["webhook-id"] || ""}`);
      res.writeHead(204).end();
    });
    return;
  }
  if (req.method === "GET" && req.url === "/hooks") {
    const rows = hooks.slice().reverse().map((h) => `<article><h2>${escape(h.type)}</h2><p>${escape(h.id)} · ${escape(h.at)}</p><pre>${escape(h.body)}</pre></article>`).join("");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local webhooks</title></head><body><h1>Webhooks the demo tenant sent</h1>${rows || "<p>None yet.</p>"}</body></html>`);
    return;
  }
  if (req.method === "GET" && req.url === "/") {
    const rows = mails.slice().reverse().map((m) => `<article><h2>${escape(m.subject)}</h2><p>to ${escape([].concat(m.to).join(", "))} · ${escape(m.at)}</p><pre>${escape(m.text)}</pre></article>`).join("");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local mail</title></head><body><h1>Mail sent by the local edge</h1>${rows || "<p>None yet.</p>"}</body></html>`);
    return;
  }
  res.writeHead(404).end();
}).listen(port, "127.0.0.1", () => console.log(`  local mail: http://127.0.0.1:${port}/ (sign-in links and invitations land here)`));
