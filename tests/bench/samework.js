// The same-work anchor for the gateway benchmark (issue 16): a plain JavaScript worker doing what
// PrismAI's `GET /v1/tenant` does, so the ratio between the two is our overhead and not the
// runtime's hop costs. Per request: the bearer key's record from isolate memory (re-read from KV
// after a minute, from D1 when KV misses), its SHA-256 compared in constant time, one exact GCRA
// check of two buckets (tenant, credential) in the tenant's SQLite Durable Object (which also
// keeps the tenant's version and a daily usage counter, as PrismAI's gate does), one D1 batch of
// two reads (tenant, feature flags), JSON with the rate-limit headers, and one JSON log line.
// `POST /seed` creates the schema and one tenant with one key (the benchmark calls it once).
import { DurableObject } from "cloudflare:workers";

const MEMO_TTL_MS = 60_000;
const memo = new Map(); // prefix -> { rec, at }

async function sha256hex(s) {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function sameHex(a, b) {
  if (a.length !== b.length) return false;
  let x = 0;
  for (let i = 0; i < a.length; i++) x |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return x === 0;
}

function error(status, code, message) {
  return Response.json({ error: { code, message } }, { status });
}

async function keyRecord(env, prefix) {
  const m = memo.get(prefix);
  if (m && Date.now() - m.at < MEMO_TTL_MS) return m.rec;
  let rec = await env.CACHE.get(`auth:key:${prefix}`, "json");
  if (!rec) {
    rec = await env.DB.prepare(
      "SELECT k.id, k.hash, k.scopes, k.revoked_at, t.id AS tenant_id, t.status, t.version, t.limit_count, t.limit_period_ms FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = ?1",
    )
      .bind(prefix)
      .first();
    if (!rec) return null;
    await env.CACHE.put(`auth:key:${prefix}`, JSON.stringify(rec), { expirationTtl: 3600 });
  }
  memo.set(prefix, { rec, at: Date.now() });
  return rec;
}

export default {
  async fetch(req, env) {
    const started = Date.now();
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname === "/seed") return seed(env);
    if (url.pathname === "/") return Response.json({ status: "ok" });
    if (url.pathname !== "/v1/tenant") return error(404, "not_found", "no route");
    const auth = req.headers.get("authorization") || "";
    const key = auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
    const parts = key.split("_");
    if (parts.length !== 3 || parts[0] !== "sk") return error(401, "invalid_token", "invalid or revoked credentials");
    const rec = await keyRecord(env, parts[1]);
    if (!rec || rec.revoked_at || !sameHex(await sha256hex(key), rec.hash)) {
      return error(401, "invalid_token", "invalid or revoked credentials");
    }
    if (rec.status !== "active") return error(403, "forbidden", "this tenant is suspended");
    if (!JSON.parse(rec.scopes).includes("config:read")) return error(403, "forbidden", "missing scope");
    const gate = env.GATE.get(env.GATE.idFromName(`tenant:${rec.tenant_id}`));
    const limit = { count: rec.limit_count, period_ms: rec.limit_period_ms };
    const check = await (
      await gate.fetch("https://gate/check", {
        method: "POST",
        body: JSON.stringify({
          version: rec.version,
          day: new Date(started).toISOString().slice(0, 10),
          buckets: [
            { name: "tenant", ...limit },
            { name: `cred:${rec.id}`, ...limit },
          ],
        }),
      })
    ).json();
    if (check.stale) memo.delete(parts[1]);
    const rate = {
      "ratelimit-limit": String(check.limit),
      "ratelimit-remaining": String(check.remaining),
      "ratelimit-reset": String(Math.ceil(check.reset_ms / 1000)),
    };
    if (!check.allowed) {
      return new Response(JSON.stringify({ error: { code: "rate_limited", message: "rate limit exceeded" } }), {
        status: 429,
        headers: { ...rate, "content-type": "application/json", "retry-after": String(Math.max(1, Math.ceil(check.retry_after_ms / 1000))) },
      });
    }
    const [tenant, flags] = await env.DB.batch([
      env.DB.prepare("SELECT id, name, slug, tier, status, version, created_at FROM tenants WHERE id = ?1").bind(rec.tenant_id),
      env.DB.prepare("SELECT name, enabled FROM flags WHERE tenant_id = ?1").bind(rec.tenant_id),
    ]);
    const t = tenant.results[0];
    const features = {};
    for (const f of flags.results) features[f.name] = f.enabled === 1;
    const body = JSON.stringify({ tenant: t, features, limits: limit });
    console.log(
      JSON.stringify({ level: "info", msg: "request", method: req.method, route: "/v1/tenant", status: 200, duration_ms: Date.now() - started, tenant: rec.tenant_id, credential: rec.id }),
    );
    return new Response(body, {
      headers: { ...rate, "content-type": "application/json", "x-content-type-options": "nosniff", "cache-control": "no-store" },
    });
  },
};

async function seed(env) {
  await env.DB.batch([
    env.DB.prepare(
      "CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT, slug TEXT, tier TEXT, status TEXT, version INTEGER, limit_count INTEGER, limit_period_ms INTEGER, created_at INTEGER)",
    ),
    env.DB.prepare(
      "CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, prefix TEXT UNIQUE, hash TEXT, tenant_id TEXT, scopes TEXT, revoked_at INTEGER)",
    ),
    env.DB.prepare("CREATE TABLE IF NOT EXISTS flags (tenant_id TEXT, name TEXT, enabled INTEGER, PRIMARY KEY (tenant_id, name))"),
  ]);
  const n = crypto.randomUUID().replaceAll("-", "");
  const tenantId = `t_${n.slice(0, 12)}`;
  const prefix = n.slice(12, 20);
  const key = `sk_${prefix}_${n.slice(20)}${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.batch([
    env.DB.prepare("INSERT INTO tenants VALUES (?1, 'Bench', ?2, 'enterprise', 'active', 1, 10000000, 10000, ?3)").bind(tenantId, tenantId, Date.now()),
    env.DB.prepare("INSERT INTO api_keys VALUES (?1, ?2, ?3, ?4, '[\"config:read\"]', NULL)").bind(`k_${prefix}`, prefix, await sha256hex(key), tenantId),
    env.DB.prepare("INSERT INTO flags VALUES (?1, 'ai_answers', 1), (?1, 'handoff', 1)").bind(tenantId),
  ]);
  return Response.json({ key });
}

// Exact GCRA over the Durable Object's SQLite storage: both buckets are charged only if both
// allow, and the version of the tenant's settings is the newest seen (stale callers re-read).
export class Gate extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, checks INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS tats (bucket TEXT PRIMARY KEY, tat INTEGER NOT NULL, interval_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS usage (day TEXT, metric TEXT, value INTEGER NOT NULL, PRIMARY KEY (day, metric));`);
  }

  async fetch(req) {
    const r = await req.json();
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const meta = sql.exec("SELECT version FROM meta WHERE id = 1").toArray()[0];
    if (meta && r.version < meta.version) return Response.json({ stale: true, allowed: false, version: meta.version });
    const decisions = r.buckets.map((b) => {
      const interval = b.period_ms / b.count;
      const row = sql.exec("SELECT tat FROM tats WHERE bucket = ?", b.name).toArray()[0];
      const tat = Math.max(row ? row.tat : 0, now);
      const next = tat + interval;
      const allowAt = next - b.period_ms;
      const allowed = allowAt <= now;
      const remaining = Math.max(0, Math.floor((now - allowAt) / interval));
      return { b, interval, next, allowed, remaining, reset_ms: next - now, retry_after_ms: allowed ? 0 : allowAt - now };
    });
    const allowed = decisions.every((d) => d.allowed);
    if (allowed) {
      for (const d of decisions) {
        sql.exec("INSERT INTO tats VALUES (?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET tat = excluded.tat, interval_ms = excluded.interval_ms", d.b.name, d.next, d.interval);
      }
    }
    sql.exec("INSERT INTO meta VALUES (1, ?, 1) ON CONFLICT (id) DO UPDATE SET version = MAX(version, excluded.version), checks = checks + 1", r.version);
    sql.exec("INSERT INTO usage VALUES (?, ?, 1) ON CONFLICT (day, metric) DO UPDATE SET value = value + 1", r.day, allowed ? "requests" : "denied");
    const pick = allowed
      ? decisions.reduce((a, d) => (d.remaining < a.remaining ? d : a))
      : decisions.filter((d) => !d.allowed).reduce((a, d) => (d.retry_after_ms > a.retry_after_ms ? d : a));
    return Response.json({
      stale: false,
      allowed,
      version: r.version,
      limit: pick.b.count,
      remaining: pick.remaining,
      reset_ms: pick.reset_ms,
      retry_after_ms: pick.retry_after_ms,
    });
  }
}
