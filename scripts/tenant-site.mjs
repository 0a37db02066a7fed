// A sample "tenant site": a shop page on its own origin that embeds the widget from the edge,
// exactly as a tenant pastes the snippet. scripts/dev serves it on a second port so the
// cross-origin embed can be seen; the browser tests serve it (and a site the tenant did not
// allow) the same way.
//   node scripts/tenant-site.mjs <edge-base-url> <public-key> [port]
// Page query parameters become widget attributes: lang, user_id + user_hash (a signed-in
// customer), name.
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function page(edge, key, query) {
  const attrs = { key, title: "Demo Outfitters help", greeting: "Hi! I'm the Demo Outfitters assistant. How can I help?" };
  for (const [param, attr] of [["lang", "lang"], ["user_id", "user-id"], ["user_hash", "user-hash"], ["name", "name"]]) {
    if (query.get(param)) attrs[attr] = query.get(param);
  }
  const data = Object.entries(attrs).map(([k, v]) => `data-${k}="${escape(v)}"`).join(" ");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Outfitters — a tenant's own site</title>
<style>body { margin: 0; font: 16px/1.5 Georgia, serif; color: #1f2937; background: #f0fdf4; }
header { background: #14532d; color: #fef3c7; padding: 28px 20px; } main { max-width: 760px; margin: 0 auto; padding: 24px 20px 120px; }</style>
</head>
<body>
<header><h1>Demo Outfitters</h1><p>This page is served from ${escape(query.get("__origin") || "the tenant's own origin")}, not the edge.</p></header>
<main><h2>Welcome</h2><p>The chat in the corner is the PrismAI Edge widget, loaded from <code>${escape(edge)}</code> with one script tag.</p></main>
<script src="${escape(edge)}/widget.js" ${data} async></script>
</body>
</html>`;
}

/** Serves the site on `port` (0: any free port); resolves to its origin. */
export function serveTenantSite(edge, key, port = 0) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://site.invalid");
    if (url.pathname !== "/") {
      res.writeHead(404).end();
      return;
    }
    url.searchParams.set("__origin", `http://${req.headers.host}`);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(page(edge, key, url.searchParams));
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ origin: `http://127.0.0.1:${server.address().port}`, server })));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [edge, key, port] = process.argv.slice(2);
  if (!edge || !key) {
    console.error("usage: tenant-site.mjs <edge-base-url> <public-key> [port]");
    process.exit(2);
  }
  const { origin } = await serveTenantSite(edge.replace(/\/$/, ""), key, Number(port || 0));
  console.log(`tenant site: ${origin}/`);
}
