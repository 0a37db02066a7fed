// Seeds the demo tenant through the real platform API (idempotent) and prints its credentials.
// Usage: node scripts/seed-demo.mjs <base-url> <platform-admin-secret> <state-file> [tenant-site-origin]
// The tenant-site origin (scripts/tenant-site.mjs on a second port) is added to the widget's
// allowed origins, so the cross-origin embed works out of the box.
import { readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { historySql } from "./demo/history.mjs";

const [base, adminSecret, stateFile, siteOrigin] = process.argv.slice(2);
if (!base || !adminSecret || !stateFile) {
  console.error("usage: seed-demo.mjs <base-url> <platform-admin-secret> <state-file>");
  process.exit(2);
}

async function api(method, path, { token, body } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
  return json;
}

let demo = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : null;
if (demo) {
  // The state file survives only with the local database; check it still matches.
  try {
    await api("GET", "/v1/tenant", { token: demo.secret_key });
  } catch {
    demo = null;
  }
}

if (!demo) {
  const existing = await api("GET", "/v1/platform/tenants?limit=100", { token: adminSecret });
  if (existing.items.some((t) => t.slug === "demo")) {
    console.error(`The demo tenant exists but its keys are lost; delete ${join(dirname(stateFile), "state")} to start fresh.`);
    process.exit(1);
  }
  const origin = new URL(base).origin;
  const created = await api("POST", "/v1/platform/tenants", {
    token: adminSecret,
    body: {
      name: "Demo Outfitters",
      slug: "demo",
      tier: "pro",
      owner_email: "owner@demo.example",
      owner_name: "Dana Owner",
      allowed_origins: [origin, origin.replace("127.0.0.1", "localhost")],
    },
  });
  const sk = created.secret_key;
  const invite = await api("POST", "/v1/invitations", {
    token: sk,
    body: { email: "agent@demo.example", name: "Alex Agent", role: "agent" },
  });
  const agent = await api("POST", "/v1/invitations/accept", { body: { token: invite.token } });
  await api("PATCH", `/v1/users/${agent.id}`, { token: sk, body: { skills: ["billing", "shipping"] } });
  // The demo knowledge base (scripts/demo/knowledge): the assistant answers from it.
  const kbDir = join(dirname(fileURLToPath(import.meta.url)), "demo", "knowledge");
  for (const file of readdirSync(kbDir).filter((f) => f.endsWith(".md")).sort()) {
    const content = readFileSync(join(kbDir, file), "utf8");
    const title = content.split("\n")[0].replace(/^#\s*/, "");
    await api("POST", "/v1/knowledge/documents", {
      token: sk,
      body: { title, content, format: "markdown", source_url: `https://demo.example/help/${file.replace(/\.md$/, "")}` },
    });
  }
  await api("POST", "/v1/canned-responses", {
    token: sk,
    body: { shortcut: "thanks", title: "Thanks", text: "Thanks for reaching out! Is there anything else I can help you with?" },
  });
  demo = {
    tenant_id: created.tenant.id,
    secret_key: sk,
    public_key: created.public_key,
    identity_secret: created.identity_secret,
    owner_id: created.owner.id,
    agent_id: agent.id,
  };
  writeFileSync(stateFile, JSON.stringify(demo, null, 2), { mode: 0o600 });
}

// The sample tenant site (another origin) may embed the widget, on 127.0.0.1 and localhost.
if (siteOrigin) {
  const cfg = await api("GET", "/v1/tenant/config", { token: demo.secret_key });
  const wanted = [siteOrigin, siteOrigin.replace("127.0.0.1", "localhost")];
  const missing = wanted.filter((o) => !cfg.config.allowed_origins.includes(o));
  if (missing.length) {
    cfg.config.allowed_origins.push(...missing);
    await api("PUT", "/v1/tenant/config", { token: demo.secret_key, body: { version: cfg.version, config: cfg.config } });
  }
}

// One outgoing webhook endpoint, at the local receiver scripts/dev runs beside the mail catcher
// (local egress is allowed in development only).
const hooksUrl = `http://127.0.0.1:${Number(new URL(base).port) + 2}/hooks`;
const endpoints = await api("GET", "/v1/webhooks/endpoints?limit=100", { token: demo.secret_key });
if (!endpoints.items.some((e) => e.url === hooksUrl)) {
  await api("POST", "/v1/webhooks/endpoints", {
    token: demo.secret_key,
    body: { url: hooksUrl, events: ["*"], description: "Local receiver (scripts/dev)" },
  });
}

// A few leads, as they arrive: customers asking to buy and leaving their details.
const someLeads = await api("GET", "/v1/leads?limit=1", { token: demo.secret_key });
if (!someLeads.items.length) {
  const people = [
    ["Priya Patel", "Could we get a quote for 40 desks for Northwind? priya@northwind.example, +44 20 7946 0958", "contacted"],
    ["Tom Becker", "What is the price for a bulk order? You can reach me at tom.becker@example.de", null],
    ["Ana Souza", "Quero comprar para a minha loja, ana@lojasouza.example", "won"],
  ];
  for (const [name, text, stage] of people) {
    const started = await api("POST", "/v1/conversations", { token: demo.secret_key, body: { name } });
    await api("POST", `/v1/conversations/${started.conversation.conversation_id}/messages`, { token: started.token, body: { text, client_msg_id: "demo-lead" } });
    const lead = (await api("GET", "/v1/leads?limit=100", { token: demo.secret_key })).items.find((l) => l.customer_id === started.conversation.customer_id);
    if (lead && stage) await api("PATCH", `/v1/leads/${lead.id}`, { token: demo.secret_key, body: { stage } });
  }
}

// Satisfaction surveys on, with answers from resolved conversations (some handled by the agent).
await api("PUT", "/v1/tenant/features/surveys", { token: demo.secret_key, body: { enabled: true } });
const someAnswers = await api("GET", "/v1/surveys/responses?limit=1", { token: demo.secret_key });
if (!someAnswers.items.length) {
  const agentJwt = (await api("POST", "/v1/auth/token", { token: demo.secret_key, body: { user_id: demo.agent_id } })).access_token;
  const answers = [
    ["Mia", "Where is my order #1042?", 5, "Super quick, thanks!", true],
    ["Leo", "Can I return sandals I wore once?", 4, "", false],
    ["Zoe", "My parcel arrived damaged", 2, "Took two days to hear back.", true],
    ["Sam", "Do you ship to Norway?", 5, "", false],
    ["Ivy", "How do I change my delivery address?", 3, "The answer was a bit generic.", false],
    ["Max", "I was charged twice", 4, "Alex sorted it out.", true],
    ["Eva", "¿Hacéis envíos a Canarias?", 5, "¡Genial!", false],
    ["Jon", "Size guide for hiking boots?", null, "", false],
  ];
  for (const [name, text, score, comment, byAgent] of answers) {
    const started = await api("POST", "/v1/conversations", { token: demo.secret_key, body: { name } });
    const id = started.conversation.conversation_id;
    await api("POST", `/v1/conversations/${id}/messages`, { token: started.token, body: { text, client_msg_id: "demo-survey" } });
    if (byAgent) await api("POST", `/v1/conversations/${id}/messages`, { token: agentJwt, body: { text: "Sorted — anything else I can do?", client_msg_id: "demo-agent" } });
    await api("POST", `/v1/conversations/${id}/status`, { token: demo.secret_key, body: { status: "resolved" } });
    if (byAgent) {
      // Alex's conversations are reviewed: by the AI reviewer and by the owner.
      await api("POST", `/v1/conversations/${id}/reviews/ai`, { token: demo.secret_key, body: {} });
      const good = score !== null && score >= 4;
      await api("POST", `/v1/conversations/${id}/reviews`, { token: demo.secret_key, body: {
        answers: [
          { criterion: "greeting", value: "yes" },
          { criterion: "understanding", value: good ? 5 : 3 },
          { criterion: "accuracy", value: good ? 5 : 3, note: good ? "" : "Should have checked the order first." },
          { criterion: "resolution", value: "yes" },
          { criterion: "empathy", value: good ? "na" : 2 },
        ],
        comment: good ? "Quick and friendly." : "Slow first reply; apologise sooner.",
      } });
    }
    if (score === null) continue; // sent, never answered
    const body = { answers: comment ? { csat: score, comment } : { csat: score } };
    await api("POST", `/v1/conversations/${id}/survey`, { token: started.token, body }).catch((e) => console.error(`survey not answered: ${e.message}`));
  }
}

// Analytics: a team of three, SLA targets and goals, and six weeks of history for the dashboard.
const team = (await api("GET", "/v1/users?limit=100", { token: demo.secret_key })).items;
for (const [name, email, skills] of [["Sam Rivera", "sam@demo.example", ["returns", "shipping"]], ["Mina Park", "mina@demo.example", ["billing"]]]) {
  if (team.some((u) => u.email === email)) continue;
  const invite = await api("POST", "/v1/invitations", { token: demo.secret_key, body: { email, name, role: "agent" } });
  const user = await api("POST", "/v1/invitations/accept", { body: { token: invite.token } });
  await api("PATCH", `/v1/users/${user.id}`, { token: demo.secret_key, body: { skills } });
  team.push(user);
}
{
  const cfg = await api("GET", "/v1/tenant/config", { token: demo.secret_key });
  if (!cfg.config.sla.policies.length) {
    cfg.config.sla.policies = [
      { priority: "urgent", first_response_minutes: 15, resolution_minutes: 240 },
      { priority: "high", first_response_minutes: 30, resolution_minutes: 480 },
      { priority: "normal", first_response_minutes: 60, resolution_minutes: 1440 },
    ];
    cfg.config.analytics.goals = [
      { metric: "resolved", target: 120 },
      { metric: "first_response_median_ms", target: 900000 },
      { metric: "csat", target: 4.2 },
    ];
    await api("PUT", "/v1/tenant/config", { token: demo.secret_key, body: { version: cfg.version, config: cfg.config } });
  }
}
const past = await api("GET", "/v1/analytics/overview?days=60", { token: demo.secret_key });
if (past.volume.created < 100) {
  const agents = team.filter((u) => u.role === "agent").map((u) => u.id);
  const { sql, conversations } = historySql(demo.tenant_id, agents, Date.now());
  const file = join(dirname(stateFile), "demo-history.sql");
  writeFileSync(file, sql);
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  // The local database lives beside the state file (scripts/dev: <PRISM_DEV_DIR>/state).
  const persist = join(dirname(resolve(stateFile)), "state");
  execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persist, "--file", file], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  // The local runtime may drop a connection while the second process writes its database.
  let done;
  for (let attempt = 1; !done; attempt++) {
    try { done = await api("POST", "/v1/analytics/recompute", { token: demo.secret_key }); }
    catch (e) { if (attempt === 5) throw e; await new Promise((ok) => setTimeout(ok, 2000)); }
  }
  console.log(`  seeded ${conversations} archived conversations of demo history (${done.conversations} in the analytics)`);
}

const token = await api("POST", "/v1/auth/token", { token: demo.secret_key, body: { user_id: demo.agent_id } });
console.log(`
  Demo tenant "demo" (${demo.tenant_id})
    secret key (server-side):   ${demo.secret_key}
    public widget key:          ${demo.public_key}
    identity secret:            ${demo.identity_secret}
    agent JWT (15 min):         ${token.access_token}

  Open in a browser:
    Chat as a visitor:      ${base}/demo?key=${demo.public_key}${siteOrigin ? `
    …on the tenant's site:  ${siteOrigin}/   (another origin: the real embed; try ?lang=ja or ?lang=ar)` : ""}
    Answer as the agent:    ${base}/console#token=${token.access_token}
                            (the sign-in link lasts 15 minutes; restart scripts/dev for a new one)
    …or sign in yourself:   ${base}/console → workspace "demo" → agent@demo.example
                            (the email lands in the local mail catcher, printed here and listed at
                            http://127.0.0.1:${Number(new URL(base).port) + 2}/)

  Webhook URLs for the providers' consoles (behind a tunnel, use its public host, and set it as
  PUBLIC_BASE_URL or the tenant's channels.public_base_url so Twilio signatures verify):
    Twilio SMS/WhatsApp (incoming + status callback): ${base}/v1/webhooks/twilio/${demo.tenant_id}
    Resend (email.received + delivery events):        ${base}/v1/webhooks/resend/${demo.tenant_id}
    VAPI (server URL):                                ${base}/v1/webhooks/vapi/${demo.tenant_id}
    Stripe (customer.subscription.*):                 ${base}/v1/webhooks/stripe
  Outgoing webhooks (every event, signed) go to the local receiver: ${hooksUrl}
  (listed there; manage endpoints in the console's Webhooks dialog or /v1/webhooks/endpoints).

  Enable a channel with PUT /v1/tenant/config ("channels") and the tenant secrets
  twilio_auth_token, resend_api_key, resend_webhook_secret, vapi_secret (PUT /v1/tenant/secrets/{name}).

  Try the API:
    curl -H "Authorization: Bearer ${demo.secret_key}" ${base}/v1/tenant
    curl -H "Authorization: Bearer ${demo.secret_key}" "${base}/v1/knowledge/search?q=return+policy"
    curl ${base}/v1/openapi.json
`);
