// A local stand-in for Resend's send API for scripts/dev: the edge sends account emails (console
// sign-in links, invitations) here instead of to api.resend.com, and this prints each one to the
// terminal and lists them at its own address, so a newcomer can sign in by email with no
// account anywhere. Speaks the one call the platform makes: POST /emails (JSON), answering
// {"id"} like Resend. Local development only: it keeps mail in memory and checks no key.
//   node scripts/mail-catcher.mjs <port>
import { createServer } from "node:http";

const port = Number(process.argv[2] || 8789);
const mails = [];
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
  if (req.method === "GET" && req.url === "/") {
    const rows = mails.slice().reverse().map((m) => `<article><h2>${escape(m.subject)}</h2><p>to ${escape([].concat(m.to).join(", "))} · ${escape(m.at)}</p><pre>${escape(m.text)}</pre></article>`).join("");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local mail</title></head><body><h1>Mail sent by the local edge</h1>${rows || "<p>None yet.</p>"}</body></html>`);
    return;
  }
  res.writeHead(404).end();
}).listen(port, "127.0.0.1", () => console.log(`  local mail: http://127.0.0.1:${port}/ (sign-in links and invitations land here)`));
