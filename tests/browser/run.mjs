// Browser tests: the widget on /demo, the widget embedded in a tenant's own site on another
// origin (both transports) and refused on a site the tenant did not allow, and the agent
// console, in Debian's Chromium driven by playwright-core, against the local runtime. Run by
// tests/tests/browser.rs, which starts the runtime and seeds the tenant; reads BASE, PK (public
// widget key), AGENT (agent JWT), SK (secret key), IDS (identity secret), SLUG, AGENT_EMAIL,
// PROVIDERS + RESEND_KEY (the fake Resend and the tenant's account there, where sign-in emails
// land), TR_AGENT + TR_CONV (an agent of a second workspace whose AI provider is the fake
// Gemini, and a Spanish conversation there) and SHOTS (screenshot directory) from the environment. Exits non-zero when any test
// failed.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { serveTenantSite } from "../../scripts/tenant-site.mjs";

const { BASE, PK, AGENT, SK, IDS, SHOTS, SLUG, AGENT_EMAIL, PROVIDERS, RESEND_KEY, TR_AGENT, TR_CONV } = process.env;
mkdirSync(SHOTS, { recursive: true });
const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const demo = `${BASE}/demo?key=${PK}`;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const results = [];
// BROWSER_ONLY=<regex> runs only the tests whose names match (while working on one).
const ONLY = process.env.BROWSER_ONLY ? new RegExp(process.env.BROWSER_ONLY) : null;
async function test(name, fn) {
  if (ONLY && !ONLY.test(name)) return;
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}\n${e.stack}`);
  }
}

async function visitor(opts = {}) {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  page.on("dialog", (d) => { throw new Error(`unexpected dialog: ${d.message()}`); });
  page.on("pageerror", (e) => console.log(`  [page error] ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log(`  [console ${m.type()}] ${m.text()}`); });
  return { context, page };
}

async function openWidget(page) {
  await page.goto(demo);
  await page.locator("#prism-chat button.launcher").click();
  await page.locator("#prism-chat textarea").waitFor();
}

async function ask(page, text) {
  const box = page.locator("#prism-chat textarea");
  await box.fill(text);
  await box.press("Enter");
}

const aiMessages = (page) => page.locator("#prism-chat .msg.ai");

await test("a visitor asks about the knowledge base and sees a streamed, cited answer", async () => {
  const { context, page } = await visitor();
  await openWidget(page);
  // Record whether the answer was ever shown while still streaming.
  await page.evaluate(() => {
    window.__sawStreaming = false;
    const root = document.querySelector("#prism-chat").shadowRoot;
    new MutationObserver(() => {
      if (root.querySelector(".msg.ai[aria-busy='true']")) window.__sawStreaming = true;
    }).observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await ask(page, "How long does delivery take to the US?");
  const answer = aiMessages(page).last();
  await answer.locator(".sources a").first().waitFor({ timeout: 15000 });
  assert.match(await answer.innerText(), /5 to 8 business days/);
  assert.equal(await answer.locator(".sources a").first().innerText(), "Shipping and delivery");
  assert.ok(await page.evaluate(() => window.__sawStreaming), "the answer streamed in before it was final");
  await page.screenshot({ path: `${SHOTS}/widget-answer.png` });
  await context.close();
});

await test("with WebSockets blocked the widget falls back to SSE, loses and duplicates nothing, and a reload restores the conversation", async () => {
  const { context, page } = await visitor();
  let blocked = 0;
  await page.routeWebSocket(/\/live/, (ws) => { blocked++; ws.close(); });
  await openWidget(page);
  await ask(page, "Do you accept PayPal?");
  const answer = aiMessages(page).last();
  await answer.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => {
    const a = [...document.querySelector("#prism-chat").shadowRoot.querySelectorAll(".msg.ai")].pop();
    return a && /PayPal/.test(a.textContent);
  }, null, { timeout: 20000 });
  assert.ok(blocked >= 1, "the WebSocket was attempted and blocked");
  const questions = await page.locator("#prism-chat .msg.customer").allInnerTexts();
  assert.equal(questions.filter((q) => q.includes("Do you accept PayPal?")).length, 1, "sent exactly once");
  assert.equal(await page.locator("#prism-chat .msg.customer.pending").count(), 0, "acknowledged");
  await page.reload();
  await page.locator("#prism-chat button.launcher").click();
  await page.locator("#prism-chat .msg.ai").first().waitFor({ timeout: 15000 });
  const after = await page.locator("#prism-chat .msg").allInnerTexts();
  assert.equal(after.filter((q) => q.includes("Do you accept PayPal?")).length, 1, "restored once after reload");
  assert.ok(after.some((m) => /PayPal/.test(m) && !m.includes("Do you accept")), "the answer is restored too");
  await context.close();
});

await test("a visitor asks for a human; an agent sees it live in the console, takes over and replies", async () => {
  const v = await visitor();
  await openWidget(v.page);
  const agentContext = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const console_ = await agentContext.newPage();
  await console_.goto(`${BASE}/console#token=${AGENT}`);
  await console_.locator("#live-state.on").waitFor({ timeout: 15000 });
  await console_.locator("[data-filter=pending_human]").click();
  await ask(v.page, "I need to talk to a human about my order please");
  await v.page.locator("#prism-chat .status").filter({ hasText: "person" }).waitFor({ timeout: 15000 });
  // The console's pending list updates from the live inbox feed (no reload).
  const item = console_.locator("#list button").first();
  await item.waitFor({ timeout: 15000 });
  await item.click();
  await console_.locator("#transcript .msg.customer").filter({ hasText: "talk to a human" }).waitFor({ timeout: 10000 });
  await console_.locator("#take-over").click();
  await v.page.locator("#prism-chat .note").filter({ hasText: "joined" }).waitFor({ timeout: 15000 });
  await console_.locator("#reply").fill("Hi, this is Alex from the team. Let me check your order.");
  await console_.locator("#reply").press("Enter");
  await v.page.locator("#prism-chat .msg.agent").filter({ hasText: "this is Alex" }).waitFor({ timeout: 15000 });
  await console_.screenshot({ path: `${SHOTS}/console.png` });
  await v.page.screenshot({ path: `${SHOTS}/widget-agent.png` });
  await agentContext.close();
  await v.context.close();
});

await test("a message containing HTML renders as text", async () => {
  const { context, page } = await visitor();
  await openWidget(page);
  const evil = "<img src=x onerror=alert(1)>";
  await ask(page, evil);
  const bubble = page.locator("#prism-chat .msg.customer").last();
  await bubble.waitFor();
  assert.equal(await bubble.locator(".body").innerText(), evil);
  assert.equal(await page.evaluate(() => document.querySelector("#prism-chat").shadowRoot.querySelectorAll("img").length), 0);
  await page.waitForTimeout(1500); // give any injected handler a chance to fire (it must not)
  await context.close();
});

await test("the widget works by keyboard alone, on a narrow screen, with no serious accessibility violations", async () => {
  // bypassCSP only so axe-core can be injected into the page for the audit.
  const { context, page } = await visitor({ viewport: { width: 375, height: 700 }, reducedMotion: "reduce", bypassCSP: true });
  await page.goto(demo);
  await page.locator("#prism-chat button.launcher").waitFor();
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id === "prism-chat" && document.activeElement.shadowRoot.activeElement && document.activeElement.shadowRoot.activeElement.className);
    if (focused === "launcher") break;
  }
  await page.keyboard.press("Enter");
  const inInput = await page.evaluate(() => document.querySelector("#prism-chat").shadowRoot.activeElement.id);
  assert.equal(inInput, "prism-input", "opening moves focus into the message box");
  await page.keyboard.type("What are the opening hours of the Berlin store?");
  await page.keyboard.press("Enter");
  await aiMessages(page).last().locator(".sources").waitFor({ timeout: 15000 });
  const box = await page.locator("#prism-chat .panel").boundingBox();
  assert.ok(box.width <= 375, "full width on a phone");
  await page.screenshot({ path: `${SHOTS}/widget-mobile.png` });
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  const serious = axe.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious, [], `axe violations: ${JSON.stringify(axe)}`);
  await page.keyboard.press("Escape");
  const back = await page.evaluate(() => document.querySelector("#prism-chat").shadowRoot.activeElement.className);
  assert.equal(back, "launcher", "Escape closes and returns focus to the launcher");
  await context.close();
});

// ------------------------------------------------------------------ the widget on a tenant's own site
// Two sites on their own ports: one the tenant allows, one it never heard of.
async function edge(method, path, token, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const site = await serveTenantSite(BASE, PK);
const stranger = await serveTenantSite(BASE, PK);
assert.notEqual(new URL(site.origin).port, new URL(BASE).port, "the site is another origin than the edge");
{
  const cfg = await edge("GET", "/v1/tenant/config", SK);
  cfg.config.allowed_origins.push(site.origin);
  await edge("PUT", "/v1/tenant/config", SK, { version: cfg.version, config: cfg.config });
}
const userHash = (id) => createHmac("sha256", IDS).update(id).digest("hex");

/** Watches a page's calls to the edge: every one must be cross-origin and none may fail CORS. */
function watchEdge(page) {
  const seen = { calls: [], failed: [], corsErrors: [] };
  page.on("request", (r) => { if (r.url().startsWith(BASE)) seen.calls.push(`${r.method()} ${new URL(r.url()).pathname}`); });
  // A reload aborts the open live stream: that is the page leaving, not a failure.
  page.on("requestfailed", (r) => { if (r.url().startsWith(BASE) && !/\/live/.test(r.url()) && r.failure()?.errorText !== "net::ERR_ABORTED") seen.failed.push(`${r.method()} ${r.url()} ${r.failure()?.errorText}`); });
  page.on("console", (m) => { if (/CORS|Access-Control/i.test(m.text())) seen.corsErrors.push(m.text()); });
  return seen;
}
async function openOn(page, url) {
  await page.goto(url);
  await page.locator("#prism-chat button.launcher").click();
  await page.locator("#prism-chat textarea").waitFor();
}
async function lastAnswerMatching(page, re, timeout = 20000) {
  await page.waitForFunction((src) => {
    const a = [...document.querySelector("#prism-chat").shadowRoot.querySelectorAll(".msg.ai")].pop();
    return a && new RegExp(src).test(a.textContent) && !a.hasAttribute("aria-busy");
  }, re.source, { timeout });
}

for (const transport of ["WebSocket", "SSE + POST"]) {
  await test(`embedded on the tenant's own site over ${transport}: the answer arrives and a reload restores the history, every call cross-origin`, async () => {
    const { context, page } = await visitor();
    if (transport !== "WebSocket") await page.routeWebSocket(/\/live/, (ws) => ws.close());
    const seen = watchEdge(page);
    await openOn(page, `${site.origin}/`);
    assert.notEqual(new URL(page.url()).origin, BASE);
    await ask(page, "How long does delivery take to the US?");
    await lastAnswerMatching(page, /5 to 8 business days/);
    await page.reload();
    await page.locator("#prism-chat button.launcher").click();
    await lastAnswerMatching(page, /5 to 8 business days/);
    const texts = await page.locator("#prism-chat .msg").allInnerTexts();
    assert.equal(texts.filter((m) => m.includes("How long does delivery take")).length, 1, "the question, restored once");
    assert.ok(seen.calls.some((c) => /^GET \/v1\/conversations\/cnv_[^/]+\/messages$/.test(c)), `history was fetched cross-origin: ${seen.calls}`);
    if (transport !== "WebSocket") {
      assert.ok(seen.calls.some((c) => /^POST \/v1\/conversations\/cnv_[^/]+\/messages$/.test(c)), "sent by POST");
      assert.ok(seen.calls.some((c) => /\/events$/.test(c)), "live over SSE");
    }
    assert.deepEqual(seen.failed, [], `no call to the edge failed: ${seen.failed}`);
    assert.deepEqual(seen.corsErrors, [], "no CORS errors");
    await page.screenshot({ path: `${SHOTS}/embedded-${transport === "WebSocket" ? "ws" : "sse"}.png` });
    await context.close();
  });
}

// A visitor's files: a real 1×1 PNG and a small PDF.
const PNG_1PX = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
const PDF_DOC = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
for (const transport of ["WebSocket", "SSE + POST"]) {
  await test(`on the tenant's site over ${transport}, a visitor sends an image and a PDF; the agent sees both in the console and downloads the PDF`, async () => {
    const { context, page } = await visitor();
    if (transport !== "WebSocket") await page.routeWebSocket(/\/live/, (ws) => ws.close());
    const seen = watchEdge(page);
    await openOn(page, `${site.origin}/?name=${encodeURIComponent(`Files ${transport}`)}`);
    const input = page.locator("#prism-chat input.file");
    await input.setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: PNG_1PX });
    const preview = page.locator("#prism-chat .msg.customer .files img");
    await preview.waitFor({ timeout: 15000 });
    await page.waitForFunction(() => { const i = document.querySelector("#prism-chat").shadowRoot.querySelector(".msg.customer .files img"); return i && i.complete && i.naturalWidth === 1; }, null, { timeout: 10000 });
    await input.setInputFiles({ name: "order.pdf", mimeType: "application/pdf", buffer: PDF_DOC });
    await page.locator("#prism-chat .files a", { hasText: "order.pdf" }).waitFor({ timeout: 15000 });
    // A file the allow-list refuses says why and leaves nothing behind.
    await input.setInputFiles({ name: "logo.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>") });
    await page.locator("#prism-chat .status").filter({ hasText: "cannot be shared" }).waitFor({ timeout: 10000 });
    assert.equal(await page.locator("#prism-chat .msg.customer").count(), 2, "two files sent, the refused one gone");
    // A reload shows them again from the history.
    await page.reload();
    await page.locator("#prism-chat button.launcher").click();
    await page.locator("#prism-chat .files a", { hasText: "order.pdf" }).waitFor({ timeout: 15000 });
    await preview.waitFor({ timeout: 15000 });
    assert.ok(seen.calls.some((c) => /^POST \/v1\/conversations\/cnv_[^/]+\/files$/.test(c)), `uploaded cross-origin: ${seen.calls}`);
    assert.deepEqual(seen.failed, [], `no call to the edge failed: ${seen.failed}`);
    assert.deepEqual(seen.corsErrors, [], "no CORS errors");
    const id = await page.evaluate(() => window.PrismChat.state.conversation_id);
    await page.screenshot({ path: `${SHOTS}/files-${transport === "WebSocket" ? "ws" : "sse"}.png` });
    await context.close();

    // The agent sees both and downloads the PDF.
    const agentId = JSON.parse(Buffer.from(AGENT.split(".")[1], "base64url")).sub;
    await edge("POST", `/v1/conversations/${id}/assign`, SK, { user_id: agentId });
    const agent = await consoleAs(AGENT);
    await agent.page.locator(`#list button[data-id="${id}"]`).click();
    await agent.page.waitForFunction(() => { const i = document.querySelector("#transcript .files img"); return i && i.complete && i.naturalWidth === 1; }, null, { timeout: 15000 });
    const pdfLink = agent.page.locator("#transcript .files a", { hasText: "order.pdf" });
    await agent.page.waitForFunction(() => [...document.querySelectorAll("#transcript .files a")].some((a) => a.textContent.includes("order.pdf") && a.href.includes("/v1/files/")), null, { timeout: 15000 });
    // Target removed and clicked in one step: a live update re-rendering the transcript in
    // between left a fresh link with its target, which opened a new tab and no download here.
    const [download] = await Promise.all([
      agent.page.waitForEvent("download"),
      pdfLink.evaluate((a) => { a.removeAttribute("target"); a.click(); }),
    ]);
    assert.equal(download.suggestedFilename(), "order.pdf");
    assert.deepEqual(readFileSync(await download.path()), PDF_DOC, "the bytes the visitor sent");
    // The agent replies with a file of their own.
    await agent.page.locator("#attach-file").setInputFiles({ name: "label.pdf", mimeType: "application/pdf", buffer: PDF_DOC });
    await agent.page.locator("#transcript .msg.agent .files a", { hasText: "label.pdf" }).waitFor({ timeout: 15000 });
    await agent.context.close();
  });
}

// The race that once hid a refusal: over SSE the live stream's welcome (a status frame) arrived
// after the refused upload and wiped its reason. Here the stream is held back until the refusal
// is in, every time.
await test("a refused file's reason stays on screen when the live stream opens after it (SSE + POST)", async () => {
  const { context, page } = await visitor();
  await page.routeWebSocket(/\/live/, (ws) => ws.close());
  let release;
  const held = new Promise((r) => { release = r; });
  let asked;
  const streamAsked = new Promise((r) => { asked = r; });
  await page.route(/\/v1\/conversations\/[^/]+\/events/, async (route) => { asked(); await held; await route.continue(); });
  await openOn(page, `${site.origin}/?name=${encodeURIComponent("Held stream")}`);
  const refused = page.waitForResponse((r) => /\/files\?/.test(r.url()) && r.request().method() === "POST", { timeout: 15000 });
  await page.locator("#prism-chat input.file").setInputFiles({ name: "logo.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>") });
  assert.equal((await refused).status(), 415, "the allow-list refuses SVG");
  // The widget falls back to SSE once the WebSocket fails; wait until it asks for the stream.
  await Promise.race([streamAsked, new Promise((_, no) => setTimeout(() => no(new Error("no SSE request")), 20000))]);
  const welcomed = page.waitForResponse((r) => /\/events/.test(r.url()), { timeout: 15000 });
  release();
  await welcomed;
  await page.locator("#prism-chat .status").filter({ hasText: "cannot be shared" }).waitFor({ timeout: 10000 });
  // Still there once the welcome has surely been handled.
  await page.waitForTimeout(500);
  assert.match(await page.locator("#prism-chat .status").innerText(), /cannot be shared/);
  await context.close();
});

await test("embedded: asking for a person from the tenant's site reaches the agent console", async () => {
  const v = await visitor();
  await v.page.routeWebSocket(/\/live/, (ws) => ws.close()); // the harder transport
  const agentContext = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const consolePage = await agentContext.newPage();
  await consolePage.goto(`${BASE}/console#token=${AGENT}`);
  await consolePage.locator("#live-state.on").waitFor({ timeout: 15000 });
  await consolePage.locator("[data-filter=pending_human]").click();
  await openOn(v.page, `${site.origin}/?name=Embedded%20Erin`);
  await ask(v.page, "Hello");
  await v.page.locator("#prism-chat .msg.ai").first().waitFor({ timeout: 15000 });
  await v.page.locator("#prism-chat button.human").click();
  await v.page.locator("#prism-chat .status").filter({ hasText: "person" }).waitFor({ timeout: 15000 });
  await consolePage.locator("#list button").filter({ hasText: "Embedded Erin" }).first().waitFor({ timeout: 15000 });
  await agentContext.close();
  await v.context.close();
});

await test("a verified customer sees their history on a second device", async () => {
  const user = `cust-${Date.now()}`;
  const url = `${site.origin}/?user_id=${user}&user_hash=${userHash(user)}&name=Kim`;
  const first = await visitor();
  await openOn(first.page, url);
  await ask(first.page, "Where is my order 4417?");
  await first.page.locator("#prism-chat .msg.customer:not(.pending)").filter({ hasText: "order 4417" }).waitFor({ timeout: 15000 });
  await first.context.close();
  // A new browser profile: nothing in storage, only the identity the tenant's site vouches for.
  const second = await visitor();
  await openOn(second.page, url);
  await second.page.locator("#prism-chat .msg.customer").filter({ hasText: "order 4417" }).waitFor({ timeout: 15000 });
  // Someone else signed in on that browser does not see it.
  const other = `cust-other-${Date.now()}`;
  await openOn(second.page, `${site.origin}/?user_id=${other}&user_hash=${userHash(other)}`);
  await second.page.waitForTimeout(1000);
  assert.equal(await second.page.locator("#prism-chat .msg.customer").count(), 0, "another customer's history stays hidden");
  await second.context.close();
});

await test("a site the tenant did not allow gets nothing: no conversation, and a stolen token is refused by the browser", async () => {
  const { context, page } = await visitor();
  const before = (await edge("GET", "/v1/conversations?limit=100", SK)).items.length;
  await openOn(page, `${stranger.origin}/`);
  await ask(page, "Hello from a site that copied the snippet");
  await page.locator("#prism-chat .status").filter({ hasText: "not available" }).waitFor({ timeout: 15000 })
    .catch(async (e) => { throw new Error(`status: ${await page.locator("#prism-chat .status").innerText()} / ${e.message}`); });
  assert.equal((await edge("GET", "/v1/conversations?limit=100", SK)).items.length, before, "no conversation was started");
  const started = await edge("POST", "/v1/conversations", SK, { name: "Token owner" });
  const id = started.conversation.conversation_id;
  const outcome = await page.evaluate(async ([base, id, token]) => {
    try {
      const r = await fetch(`${base}/v1/conversations/${id}/messages`, { headers: { authorization: `Bearer ${token}` } });
      return `status ${r.status}`;
    } catch (e) { return `blocked: ${e.name}`; }
  }, [BASE, id, started.token]);
  assert.match(outcome, /^blocked/, "the browser refuses to hand the response to another origin");
  await context.close();
});

await test("answers render a safe Markdown subset as elements, never as HTML", async () => {
  const { context, page } = await visitor();
  await openOn(page, `${site.origin}/`);
  await ask(page, "Hello");
  await page.locator("#prism-chat .msg.ai").first().waitFor({ timeout: 15000 });
  const id = await page.evaluate(() => window.PrismChat.state.conversation_id);
  const text = "**Orders** ship in `2 days`:\n- *Standard* delivery\n- Express\n\nTrack it [here](https://demo.example/track) or [there](javascript:alert(1)) <img src=x onerror=alert(1)>";
  await edge("POST", `/v1/conversations/${id}/messages`, AGENT, { text, client_msg_id: `md-${Date.now()}` });
  const msg = page.locator("#prism-chat .msg.agent").last();
  await msg.locator("li").nth(1).waitFor({ timeout: 15000 });
  assert.equal(await msg.locator("strong").first().innerText(), "Orders");
  assert.equal(await msg.locator("code").first().innerText(), "2 days");
  assert.equal(await msg.locator("em").first().innerText(), "Standard");
  assert.equal(await msg.locator("li").count(), 2);
  const links = await msg.locator("a").evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute("href"), a.rel]));
  assert.deepEqual(links, [["here", "https://demo.example/track", "noopener noreferrer nofollow"]]);
  assert.ok((await msg.innerText()).includes("<img src=x onerror=alert(1)>"), "HTML stays text");
  assert.ok(!(await msg.innerText()).includes("**"), "no asterisks left");
  assert.equal(await page.evaluate(() => document.querySelector("#prism-chat").shadowRoot.querySelectorAll("img").length), 0);
  await context.close();
});

await test("a visitor rates an answer (thumbs down with a comment) and the tenant's tally shows it", async () => {
  const { context, page } = await visitor();
  await openOn(page, `${site.origin}/`);
  await ask(page, "Do you accept PayPal?");
  await lastAnswerMatching(page, /PayPal/);
  const answer = page.locator("#prism-chat .msg.ai").last();
  await answer.getByRole("button", { name: "Not helpful" }).click();
  const comment = `Wanted the fees too ${Date.now()}`;
  await answer.locator(".rate input").fill(comment);
  await answer.locator(".rate input").press("Enter");
  await answer.locator(".rate .thanks").waitFor({ timeout: 10000 });
  assert.equal(await answer.getByRole("button", { name: "Not helpful" }).getAttribute("aria-pressed"), "true");
  const tally = await edge("GET", "/v1/ratings?days=1", SK);
  assert.ok(tally.ai.down >= 1, JSON.stringify(tally));
  assert.ok(tally.comments.some((c) => c.comment === comment && c.rating === "down"), JSON.stringify(tally.comments));
  // The choice survives a reload.
  await page.reload();
  await page.locator("#prism-chat button.launcher").click();
  await lastAnswerMatching(page, /PayPal/);
  assert.equal(await page.locator("#prism-chat .msg.ai").last().getByRole("button", { name: "Not helpful" }).getAttribute("aria-pressed"), "true");
  await context.close();
});

await test("the widget speaks the visitor's language, lays Arabic out right to left, and stays accessible", async () => {
  const german = await visitor({ locale: "de-DE" });
  await german.page.goto(`${site.origin}/`);
  assert.equal(await german.page.locator("#prism-chat button.launcher").getAttribute("aria-label"), "Chat öffnen", "the browser's language");
  await german.context.close();
  const expected = { es: "Abrir chat", fr: "Ouvrir le chat", pt: "Abrir chat", ja: "チャットを開く", en: "Open chat" };
  const { context, page } = await visitor({ locale: "de-DE", bypassCSP: true });
  for (const [lang, label] of Object.entries(expected)) {
    await page.goto(`${site.origin}/?lang=${lang}`);
    assert.equal(await page.locator("#prism-chat button.launcher").getAttribute("aria-label"), label, `data-lang=${lang} wins`);
  }
  await openOn(page, `${site.origin}/?lang=ar`);
  const dir = await page.evaluate(() => {
    const panel = document.querySelector("#prism-chat").shadowRoot.querySelector(".panel");
    return [panel.getAttribute("dir"), getComputedStyle(panel).direction, panel.getAttribute("lang")];
  });
  assert.deepEqual(dir, ["rtl", "rtl", "ar"]);
  assert.equal(await page.locator("#prism-chat button[type=submit]").innerText(), "إرسال");
  await ask(page, "Hello");
  await page.locator("#prism-chat .msg.ai").first().waitFor({ timeout: 15000 });
  const [customer, panel] = await Promise.all([
    page.locator("#prism-chat .msg.customer").first().boundingBox(),
    page.locator("#prism-chat .panel").boundingBox(),
  ]);
  assert.ok(customer.x - panel.x < panel.width / 2, "the visitor's own messages sit on the left in RTL");
  await page.screenshot({ path: `${SHOTS}/widget-rtl.png` });
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  assert.deepEqual(axe.filter((v) => v.impact === "serious" || v.impact === "critical"), [], `axe: ${JSON.stringify(axe)}`);
  await context.close();
});

await test("the widget stays under 30 KB gzipped, with no framework", async () => {
  const src = await (await fetch(`${BASE}/widget.js`)).text();
  const gz = gzipSync(Buffer.from(src), { level: 9 }).length;
  console.log(`  widget.js: ${src.length} bytes, ${gz} gzipped`);
  assert.ok(gz <= 30 * 1024, `${gz} bytes gzipped`);
  assert.ok(!/\bimport\s|require\(/.test(src), "one self-contained script");
});

// ------------------------------------------------------------------ agents sign themselves in
/** The newest email the tenant sent to `to`, as the fake Resend received it. */
async function latestEmail(to, since = 0) {
  for (let i = 0; i < 50; i++) {
    const { calls } = await (await fetch(`${PROVIDERS}/_test/calls/${RESEND_KEY}`)).json();
    const mails = calls.filter((c) => c.path === "/emails" && c.body.to.includes(to));
    if (mails.length > since) return mails[mails.length - 1].body;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error(`no email to ${to}`);
}
const emailsTo = async (to) => {
  const { calls } = await (await fetch(`${PROVIDERS}/_test/calls/${RESEND_KEY}`)).json();
  return calls.filter((c) => c.path === "/emails" && c.body.to.includes(to)).length;
};
const linkIn = (mail, marker) => mail.text.match(new RegExp(`https?://\\S+#${marker}=[A-Za-z0-9_-]+`))[0];
async function chooseWorkspace(page) {
  await page.goto(`${BASE}/console`);
  await page.locator("#workspace").fill(SLUG);
  await page.locator("#workspace-form button").click();
}
async function signInByEmail(page, email) {
  const before = await emailsTo(email);
  await chooseWorkspace(page);
  await page.locator("#email").fill(email);
  await page.locator("#link-form button").click();
  await page.locator("#link-sent").waitFor();
  const mail = await latestEmail(email, before);
  assert.match(mail.subject, /sign-in link/);
  await page.goto(linkIn(mail, "signin"));
  await page.locator("#live-state.on").waitFor({ timeout: 15000 });
}

await test("an agent signs in with an email link; the session survives a reload in an HttpOnly cookie and ends on sign-out", async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await signInByEmail(page, AGENT_EMAIL);
  assert.match(await page.locator("#me").innerText(), /\(agent\)/);
  assert.equal(new URL(page.url()).hash, "", "the link's token left the address bar");
  const cookie = (await context.cookies(`${BASE}/v1/auth/session/refresh`)).find((c) => c.name === "prism_session");
  assert.ok(cookie, "a session cookie");
  assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, "Strict", "/v1/auth/session"]);
  assert.ok(!(await page.evaluate(() => document.cookie)).includes("prism_session"), "scripts cannot read it");
  assert.equal(await page.evaluate(() => sessionStorage.length + (localStorage.getItem("prism-agent-token")?.length || 0)), 0, "no token kept in storage");
  await page.reload();
  await page.locator("#live-state.on").waitFor({ timeout: 15000 });
  await page.locator("#sign-out").click();
  await page.locator("#workspace-form").waitFor();
  await page.reload();
  await page.locator("#workspace-form").waitFor();
  assert.ok(await page.locator("#app").isHidden(), "signed out for good");
  await context.close();
});

await test("an agent signs in through the workspace's identity provider (OpenID Connect with PKCE)", async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const hops = [];
  page.on("request", (r) => { if (r.isNavigationRequest()) hops.push(new URL(r.url()).pathname); });
  await chooseWorkspace(page);
  await page.getByRole("button", { name: "Sign in with Example ID" }).click();
  await page.locator("#live-state.on").waitFor({ timeout: 15000 });
  assert.deepEqual(hops.filter((h) => /authorize|oidc/.test(h)), ["/v1/auth/oidc/start", "/authorize", "/v1/auth/oidc/callback"]);
  assert.match(await page.locator("#me").innerText(), /\(agent\)/);
  await page.screenshot({ path: `${SHOTS}/console-sso.png` });
  await context.close();
});

await test("an invitation email leads to an account and a signed-in console; the link works once", async () => {
  const email = `new-agent-${Date.now()}@browser.example`;
  const invited = await edge("POST", "/v1/invitations", SK, { email, name: "Nova Agent", role: "agent" });
  assert.equal(invited.email_sent, true);
  const link = linkIn(await latestEmail(email), "invite");
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.locator("#live-state.on").waitFor({ timeout: 15000 });
  assert.match(await page.locator("#me").innerText(), /Nova Agent \(agent\)/);
  const again = await (await context.newPage());
  await again.goto(link);
  await again.getByRole("button", { name: "Accept invitation" }).click();
  await again.locator("#signin-error").filter({ hasText: "invitation" }).waitFor();
  await context.close();
});

await test("signing out everywhere ends the agent's other sessions, live sockets included", async () => {
  const laptop = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const phone = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const a = await laptop.newPage();
  const b = await phone.newPage();
  await signInByEmail(a, AGENT_EMAIL);
  await signInByEmail(b, AGENT_EMAIL);
  await a.locator("#sign-out-all").click();
  await a.locator("#workspace-form").waitFor();
  // The other device's inbox socket is re-checked and closed; the console returns to sign-in.
  await b.locator("#signin").waitFor({ timeout: 20000 });
  await b.reload();
  await b.locator("#workspace-form").waitFor();
  await laptop.close();
  await phone.close();
});

// ------------------------------------------------------------------ the console a team lives in
async function consoleAs(token, init, options = {}) {
  // bypassCSP only so axe-core can be injected into the page for the audit.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: "en-US", bypassCSP: true, ...options });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log(`  [console page error] ${e.message}`));
  await page.goto(`${BASE}/console#token=${token}`);
  await page.locator("#live-state.on").waitFor({ timeout: 15000 });
  return { context, page };
}
const currentId = (page) => page.locator("#list button[aria-current=true]").getAttribute("data-id");

await test("the console notifies of a new conversation, a handoff assigned to me and the customer's messages (notification, title badge), cleared on opening", async () => {
  // Headless Chromium shows no system notifications: the page's Notification is replaced by a
  // recorder that behaves like a granted one.
  const { context, page } = await consoleAs(AGENT, () => {
    window.__notes = [];
    window.Notification = class {
      static permission = "granted";
      static requestPermission() { return Promise.resolve("granted"); }
      constructor(title, opts = {}) { window.__notes.push({ title, body: opts.body, tag: opts.tag }); }
      close() {}
    };
  });
  const seen = (title, id) => page.waitForFunction(([t, i]) => window.__notes.some((n) => n.title === t && n.tag === i), [title, id], { timeout: 15000 });
  const started = await edge("POST", "/v1/conversations", SK, { name: "Nora Notify" });
  const id = started.conversation.conversation_id;
  await seen("New conversation", id);
  assert.match(await page.title(), /^\(1\) PrismAI Edge/);
  const agentId = JSON.parse(Buffer.from(AGENT.split(".")[1], "base64url")).sub;
  await edge("POST", `/v1/conversations/${id}/assign`, SK, { user_id: agentId });
  await seen("Assigned to you", id);
  await edge("POST", `/v1/conversations/${id}/messages`, started.token, { text: "Are you there? Order 5521", client_msg_id: "n1" });
  await seen("New message from Nora Notify", id);
  assert.ok((await page.evaluate(() => window.__notes)).some((n) => n.body === "Are you there? Order 5521"));
  assert.ok(await page.locator("#sound").isChecked(), "sound on by default");
  await page.locator(`#list button[data-id="${id}"]`).click();
  await page.waitForFunction(() => !document.title.startsWith("("));
  await context.close();
});

await test("agents search every conversation, jump to the match, see the customer's whole history, and work by keyboard", async () => {
  const word = `zebra${Date.now().toString(36)}`;
  const first = await edge("POST", "/v1/conversations", SK, { name: "Sam Search", email: `sam-${word}@example.com` });
  const firstId = first.conversation.conversation_id;
  await edge("POST", `/v1/conversations/${firstId}/messages`, first.token, { text: `My ${word} parcel is missing`, client_msg_id: "s1" });
  const again = await edge("POST", "/v1/conversations", SK, { visitor_id: first.visitor_id });
  await edge("POST", `/v1/conversations/${again.conversation.conversation_id}/messages`, again.token, { text: "Following up on my parcel", client_msg_id: "s2" });
  const { context, page } = await consoleAs(AGENT);
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "search");
  await page.keyboard.type(word.slice(0, -2));
  await page.locator("#result-messages mark").first().waitFor({ timeout: 10000 });
  assert.equal(await page.locator("#result-messages mark").first().innerText(), word, "the match is marked (as an element)");
  assert.equal(await page.locator("#result-messages li").count(), 1);
  assert.match(await page.locator("#result-customers li").first().innerText(), /Sam Search/);
  await page.locator("#result-messages button").first().click();
  const found = page.locator("#transcript .msg.found");
  await found.waitFor();
  assert.match(await found.innerText(), new RegExp(word));
  assert.match(await page.locator("#conv-title").innerText(), /Sam Search/);
  // The customer panel: both of this visitor's conversations, this one marked.
  await page.locator("#history li").nth(1).waitFor();
  assert.equal(await page.locator("#history li").count(), 2);
  assert.equal(await page.locator("#history button[aria-current=true]").count(), 1);
  assert.match(await page.locator("#customer").innerText(), /Channels\s+web/);
  // No AI provider in this workspace: translating says so instead of guessing.
  await found.getByRole("button", { name: "Translate this message into my language" }).click();
  await page.locator("#transcript .event").filter({ hasText: "no AI provider" }).waitFor();
  await page.screenshot({ path: `${SHOTS}/console-search.png` });
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => (await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] })).violations
    .filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) })));
  assert.deepEqual(axe, [], "no serious accessibility violations in the console");
  // Keyboard: back to the inbox, then the shortcuts.
  await page.locator("#close-results").click();
  await page.locator("#transcript").focus();
  await page.keyboard.press("?");
  await page.locator("#shortcuts[open]").waitFor();
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector("#shortcuts").open);
  await page.keyboard.press("n");
  assert.deepEqual(await page.evaluate(() => [document.activeElement.id, document.querySelector("input[name=mode]:checked").value]), ["reply", "note"]);
  await page.keyboard.press("Escape");
  await page.keyboard.press("r");
  assert.deepEqual(await page.evaluate(() => [document.activeElement.id, document.querySelector("input[name=mode]:checked").value]), ["reply", "reply"]);
  await page.keyboard.press("Escape");
  // j opens the first conversation of the list (this one may be waiting for a human, not in
  // "Open"), j the next, k back.
  await page.keyboard.press("j");
  await page.locator("#list button[aria-current=true]").waitFor();
  const before = await currentId(page);
  await page.keyboard.press("j");
  await page.waitForFunction((b) => document.querySelector("#list button[aria-current=true]")?.dataset.id !== b, before);
  await page.keyboard.press("k");
  await page.waitForFunction((b) => document.querySelector("#list button[aria-current=true]")?.dataset.id === b, before);
  await page.keyboard.press("t");
  await page.locator("#conv-status").filter({ hasText: "pending_human" }).waitFor();
  await page.keyboard.press("e");
  await page.locator("#conv-status").filter({ hasText: "resolved" }).waitFor();
  await context.close();
});

await test("an agent reads a Spanish message in English and replies in Spanish, through the workspace's AI provider", async () => {
  const { context, page } = await consoleAs(TR_AGENT);
  await page.locator(`#list button[data-id="${TR_CONV}"]`).click();
  const msg = page.locator("#transcript .msg.customer").first();
  await msg.waitFor();
  await page.locator("#translate-reply-label").waitFor();
  assert.equal(await page.locator("#customer-lang").innerText(), "es");
  assert.ok(await page.locator("#translate-reply").isChecked(), "replies go out in the customer's language by default");
  await msg.getByRole("button", { name: "Translate this message into my language" }).click();
  await msg.locator(".translation").waitFor();
  assert.match(await msg.locator(".translation").innerText(), /Where is my order\? It was due on Monday\. — translated from es by gemini/);
  await page.locator("#reply").fill("Your order ships tomorrow.");
  await page.locator("#reply").press("Enter");
  await page.locator("#transcript .msg.agent").filter({ hasText: "Su pedido sale mañana." }).waitFor();
  const h = await edge("GET", `/v1/conversations/${TR_CONV}/messages?limit=10`, TR_AGENT);
  assert.equal(h.messages.at(-1).text, "Su pedido sale mañana.", "the customer reads Spanish");
  await page.screenshot({ path: `${SHOTS}/console-translate.png` });
  await context.close();
});

await test("an admin adds a webhook endpoint in the console, sees its signed deliveries and replays one", async () => {
  // A receiver on this machine: records each request and checks it with the Standard Webhooks
  // reference implementation.
  const got = [];
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => { got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") }); res.writeHead(204).end(); });
  });
  await new Promise((ok) => receiver.listen(0, "127.0.0.1", ok));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  const owner = (await edge("POST", "/v1/auth/token", SK, { email: `owner@${SLUG}.example` })).access_token;
  const { context, page } = await consoleAs(owner);
  await page.getByRole("button", { name: "Webhooks" }).click();
  const dialog = page.locator("#webhooks");
  await dialog.waitFor();
  await dialog.getByLabel("URL").fill(hookUrl);
  await dialog.getByLabel("conversation.created").check();
  await dialog.getByRole("button", { name: "Add endpoint" }).click();
  await dialog.locator("#endpoint-secret").waitFor();
  const secret = (await dialog.locator("#endpoint-secret-value").innerText()).trim();
  assert.match(secret, /^whsec_/);
  const item = dialog.locator("#endpoints li.endpoint").filter({ hasText: hookUrl });
  await item.locator(".pill").filter({ hasText: "active" }).waitFor();
  // A conversation starts: the endpoint receives it, signed with that secret.
  const started = await edge("POST", "/v1/conversations", SK, { name: "Hook Customer" });
  const until = Date.now() + 20000;
  while (!got.length && Date.now() < until) await new Promise((ok) => setTimeout(ok, 200));
  assert.equal(got.length, 1, "one delivery");
  const payload = new Webhook(secret).verify(got[0].body, got[0].headers);
  assert.equal(payload.type, "conversation.created");
  assert.equal(payload.data.conversation.id, started.conversation.conversation_id);
  // The delivery log, and a replay with the same webhook-id.
  await item.getByRole("button", { name: "Deliveries" }).click();
  const row = dialog.locator("#deliveries tr").filter({ hasText: "conversation.created" }).first();
  await row.locator("td").nth(1).filter({ hasText: "delivered" }).waitFor();
  await row.getByRole("button", { name: "Replay" }).click();
  const again = Date.now() + 20000;
  while (got.length < 2 && Date.now() < again) await new Promise((ok) => setTimeout(ok, 200));
  assert.equal(got.length, 2, "the replay arrived");
  assert.equal(got[1].headers["webhook-id"], got[0].headers["webhook-id"]);
  new Webhook(secret).verify(got[1].body, got[1].headers);
  // The log keeps both attempts; the replayed delivery counts its attempts afresh.
  const deliveryId = await row.getAttribute("data-id");
  let log = [];
  for (let i = 0; i < 50 && log.length < 2; i++) {
    await new Promise((ok) => setTimeout(ok, 200));
    log = (await edge("GET", `/v1/webhooks/deliveries/${deliveryId}`, owner)).attempts_log;
  }
  assert.deepEqual(log.map((a) => a.status_code), [204, 204]);
  await item.getByRole("button", { name: "Deliveries" }).click();
  await row.locator("td").nth(1).filter({ hasText: "delivered" }).waitFor();
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document.querySelector("#webhooks"), { runOnly: ["wcag2a", "wcag2aa"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  assert.deepEqual(axe.filter((v) => v.impact === "serious" || v.impact === "critical"), [], `axe: ${JSON.stringify(axe)}`);
  await page.screenshot({ path: `${SHOTS}/console-webhooks.png` });
  // Disabled from the console: its status says so.
  await item.getByRole("button", { name: "Disable" }).click();
  await dialog.locator("#endpoints li.endpoint").filter({ hasText: hookUrl }).locator(".pill").filter({ hasText: "disabled" }).waitFor();
  receiver.close();
  await context.close();
});

await test("an admin downloads a customer's data and erases them from the customer panel", async () => {
  const started = await edge("POST", "/v1/conversations", SK, { name: "Grace Hopper", email: "grace@navy.example" });
  const id = started.conversation.conversation_id;
  await edge("POST", `/v1/conversations/${id}/messages`, started.token, { text: "Send the manual to 1 Cobol Lane", client_msg_id: "gh1" });
  const owner = (await edge("POST", "/v1/auth/token", SK, { email: `owner@${SLUG}.example` })).access_token;
  const { context, page } = await consoleAs(owner, undefined, { acceptDownloads: true });
  // The assistant either answered (open) or handed over (pending human): open that tab.
  const status = (await edge("GET", `/v1/conversations/${id}`, SK)).conversation.status;
  await page.locator(`.filters button[data-filter="${status}"]`).click();
  await page.locator(`#list button[data-id="${id}"]`).click();
  await page.locator("#transcript .msg.customer").filter({ hasText: "1 Cobol Lane" }).waitFor();
  const panel = page.locator("#privacy");
  await panel.waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), panel.getByRole("button", { name: "Export data" }).click()]);
  assert.equal(download.suggestedFilename(), `customer-${started.conversation.customer_id}.json`);
  const doc = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(doc.customer.email, "grace@navy.example");
  assert.ok(doc.conversations.some((c) => c.id === id && c.messages.some((m) => m.text.includes("1 Cobol Lane"))), "the message is in the file");
  // Erasure takes a second click.
  const erase = panel.getByRole("button", { name: "Erase customer" });
  await erase.click();
  await panel.getByRole("button", { name: "Click again to erase for good" }).click();
  await panel.locator("#privacy-status").filter({ hasText: /^Erased 1 identity and 1 conversation\.$/ }).waitFor();
  await page.locator("#transcript .msg.customer").filter({ hasText: "[erased]" }).first().waitFor();
  assert.equal(await page.locator("#transcript").filter({ hasText: "Cobol" }).count(), 0, "nothing left on screen");
  assert.ok(await panel.getByRole("button", { name: "Erase customer" }).isDisabled());
  const after = await edge("GET", `/v1/customers/${started.conversation.customer_id}/export`, owner);
  assert.ok(after.customer.erased_at && after.customer.email === null);
  assert.ok(!JSON.stringify(after).includes("Cobol"));
  await page.screenshot({ path: `${SHOTS}/console-privacy.png` });
  await context.close();
});

await test("on the tenant's site a visitor fills the pre-chat form, consents, and chats; the lead keeps the tenant's wording", async () => {
  const wording = "I agree that the demo shop may contact me about my enquiry.";
  const cfg = await edge("GET", "/v1/tenant/config", SK);
  const before = structuredClone(cfg.config);
  cfg.config.leads.form = { fields: ["name", "email", "company"], required: ["email"], consent_text: wording };
  await edge("PUT", "/v1/tenant/config", SK, { version: cfg.version, config: cfg.config });
  try {
    const { context, page } = await visitor();
    const seen = watchEdge(page);
    await page.goto(`${site.origin}/`);
    await page.locator("#prism-chat button.launcher").click();
    const form = page.locator("#prism-chat form.lead");
    await form.waitFor();
    assert.equal(await page.locator("#prism-chat textarea").isVisible(), false, "the message box waits for the form");
    await form.getByLabel("Name").fill("Dana Form");
    await form.getByLabel("Email *").fill("dana.form@corp.example");
    await form.getByLabel("Company").fill("Corp");
    // The browser itself refuses the form until the consent box is ticked.
    await form.getByRole("button", { name: "Start chat" }).click();
    assert.equal(await form.isVisible(), true);
    await form.getByLabel(wording).check();
    await form.getByRole("button", { name: "Start chat" }).click();
    await page.locator("#prism-chat textarea").waitFor();
    assert.equal(await form.count(), 0, "the form is gone");
    await ask(page, "Hello from the form");
    await page.locator("#prism-chat .msg.customer").filter({ hasText: "Hello from the form" }).waitFor();
    const leads = (await edge("GET", "/v1/leads?limit=100", SK)).items.filter((l) => l.email === "dana.form@corp.example");
    assert.equal(leads.length, 1);
    assert.equal(leads[0].source, "form");
    assert.equal(leads[0].company, "Corp");
    assert.equal(leads[0].consent.text, wording);
    assert.deepEqual(seen.corsErrors, []);
    assert.ok(seen.calls.some((c) => /PUT \/v1\/conversations\/cnv_\w+\/lead/.test(c)), seen.calls.join("\n"));
    // A reload does not ask again.
    await page.reload();
    await page.locator("#prism-chat button.launcher").click();
    await page.locator("#prism-chat textarea").waitFor();
    assert.equal(await form.count(), 0);
    await context.close();
  } finally {
    const now = await edge("GET", "/v1/tenant/config", SK);
    await edge("PUT", "/v1/tenant/config", SK, { version: now.version, config: { ...now.config, leads: before.leads } });
  }
});

await test("an agent works leads in the console: scores explained, stage moved, CSV downloaded", async () => {
  const started = await edge("POST", "/v1/conversations", SK, { name: "Walter Skinner" });
  const lead = await edge("POST", "/v1/leads", SK, { customer_id: started.conversation.customer_id, name: "Walter Skinner", email: "skinner@bureau.example", company: "Bureau" });
  assert.equal(lead.stage, "new");
  const { context, page } = await consoleAs(AGENT, undefined, { acceptDownloads: true });
  await page.getByRole("button", { name: "Leads" }).click();
  const dialog = page.locator("#leads");
  const row = dialog.locator(`tr[data-id="${lead.id}"]`);
  await row.waitFor();
  assert.equal(await row.locator(".score").innerText(), String(lead.score));
  assert.match(await row.locator(".score").getAttribute("title"), /has email: \+20/);
  await row.getByLabel("Stage of Walter Skinner").selectOption("contacted");
  let detail = null;
  for (let i = 0; i < 50; i++) {
    detail = await edge("GET", `/v1/leads/${lead.id}`, SK);
    if (detail.stage === "contacted") break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.equal(detail.stage, "contacted");
  assert.deepEqual(detail.history.map((h) => h.to), ["new", "contacted"]);
  const [download] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Download CSV" }).click()]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv, /^id,name,email/);
  assert.match(csv, /Walter Skinner,skinner@bureau\.example/);
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document.querySelector("#leads"), { runOnly: ["wcag2a", "wcag2aa"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  assert.deepEqual(axe.filter((v) => v.impact === "serious" || v.impact === "critical"), [], `axe: ${JSON.stringify(axe)}`);
  await page.screenshot({ path: `${SHOTS}/console-leads.png` });
  await context.close();
});

await test("an admin sees the CRM connections; without the platform's OAuth app, connecting says why", async () => {
  const owner = (await edge("POST", "/v1/auth/token", SK, { email: `owner@${SLUG}.example` })).access_token;
  const { context, page } = await consoleAs(owner);
  await page.getByRole("button", { name: "CRM" }).click();
  const dialog = page.locator("#crm");
  await dialog.locator("li").filter({ hasText: "HubSpot" }).locator(".pill").filter({ hasText: "not connected" }).waitFor();
  await dialog.getByRole("button", { name: "Connect Salesforce" }).click();
  await dialog.locator("#crm-status").filter({ hasText: /no salesforce app configured/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/console", "the page stayed");
  await context.close();
});

// An agent has no webhooks button or customer-data actions (and the API refuses them).
for (const transport of ["WebSocket", "SSE + POST"]) {
  await test(`on the tenant's site over ${transport}, a resolved conversation shows the survey card; the answer is recorded once`, async () => {
    await edge("PUT", "/v1/tenant/features/surveys", SK, { enabled: true });
    const { context, page } = await visitor();
    if (transport !== "WebSocket") await page.routeWebSocket(/\/live/, (ws) => ws.close());
    const seen = watchEdge(page);
    await openOn(page, `${site.origin}/`);
    await ask(page, "How long does delivery take to the US?");
    await lastAnswerMatching(page, /5 to 8 business days/);
    const id = seen.calls.map((c) => (c.match(/\/v1\/conversations\/(cnv_[a-z0-9]+)\//) || [])[1]).find(Boolean);
    assert.ok(id, seen.calls.join("\n"));
    await edge("POST", `/v1/conversations/${id}/status`, SK, { status: "resolved" });
    const card = page.locator("#prism-chat form.survey");
    await card.waitFor({ timeout: 15000 });
    assert.equal(await card.locator("h3").innerText(), "How did we do?");
    await card.getByRole("button", { name: "4", exact: true }).click();
    assert.equal(await card.getByRole("button", { name: "4", exact: true }).getAttribute("aria-pressed"), "true");
    await card.getByLabel("Anything we could do better?").fill(`Clear answer (${transport})`);
    await card.getByRole("button", { name: "Send" }).click();
    await card.locator("h3").filter({ hasText: "Thank you for your feedback!" }).waitFor();
    const answers = (await edge("GET", `/v1/surveys/responses?conversation_id=${id}`, SK)).items;
    assert.equal(answers.length, 1);
    assert.equal(answers[0].score, 4);
    assert.equal(answers[0].comment, `Clear answer (${transport})`);
    assert.equal(answers[0].response_source, "widget");
    // A reload shows the thanks, not the questions again.
    await page.reload();
    await page.locator("#prism-chat button.launcher").click();
    await card.locator("h3").filter({ hasText: "Thank you for your feedback!" }).waitFor();
    assert.ok(seen.calls.some((c) => /^POST \/v1\/conversations\/cnv_[^/]+\/survey$/.test(c)), seen.calls.join("\n"));
    assert.deepEqual(seen.corsErrors, [], "no CORS errors");
    await page.screenshot({ path: `${SHOTS}/survey-${transport === "WebSocket" ? "ws" : "sse"}.png` });
    await context.close();
  });
}

await test("the console's survey report shows the API's numbers, the latest comments and each conversation's answer", async () => {
  const api = await edge("GET", "/v1/surveys/results?days=30", SK);
  assert.ok(api.responded >= 2, JSON.stringify(api));
  const { context, page } = await consoleAs(AGENT, undefined, { acceptDownloads: true });
  await page.getByRole("button", { name: "Surveys" }).click();
  const dialog = page.locator("#surveys");
  const tile = (name) => dialog.locator("#surveys-summary div").filter({ has: page.locator("dt", { hasText: new RegExp(`^${name}$`) }) }).locator("dd");
  await tile("Answered").waitFor();
  assert.equal(await tile("Sent").innerText(), String(api.sent));
  assert.equal(await tile("Answered").innerText(), String(api.responded));
  assert.equal(await tile("CSAT").innerText(), String(api.scores.find((s) => s.kind === "csat").average));
  assert.equal(await dialog.locator("#surveys-channels tr").first().locator("td").first().innerText(), api.by_channel[0].key);
  assert.equal(await dialog.locator("#surveys-chart rect").count(), api.by_day.length);
  const comment = dialog.locator("#surveys-comments button").filter({ hasText: "Clear answer (WebSocket)" });
  await comment.waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Download CSV" }).click()]);
  assert.match(readFileSync(await download.path(), "utf8"), /^id,conversation_id,customer_id,channel,kind,score,comment/);
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document.querySelector("#surveys"), { runOnly: ["wcag2a", "wcag2aa"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  assert.deepEqual(axe.filter((v) => v.impact === "serious" || v.impact === "critical"), [], `axe: ${JSON.stringify(axe)}`);
  await page.screenshot({ path: `${SHOTS}/console-surveys.png` });
  // A comment opens its conversation, whose answer shows beside the status.
  await comment.click();
  await page.locator("#conv-survey").filter({ hasText: "CSAT 4" }).waitFor();
  await context.close();
});

await test("the dashboard shows the analytics API's numbers (tiles, trend, channels, heatmap, leaderboard) and downloads its CSV", async () => {
  const day = (d) => d.toISOString().slice(0, 10);
  const from = day(new Date(Date.now() - 13 * 86400000)), to = day(new Date());
  const q = `from=${from}&to=${to}`;
  const { context, page } = await consoleAs(AGENT, undefined, { acceptDownloads: true });
  await page.getByRole("button", { name: "Dashboard" }).click();
  const dialog = page.locator("#dashboard");
  const tile = (name) => dialog.locator("#dash-tiles div").filter({ has: page.locator("dt", { hasText: new RegExp(`^${name.replace(/[()]/g, "\\$&")}$`) }) }).locator("dd");
  // The API's numbers and the screen's, taken together (earlier tests' mirrors may still be landing).
  let api, lb;
  for (let attempt = 0; ; attempt++) {
    await dialog.locator("#dash-from").fill(from);
    await dialog.locator("#dash-to").fill(to);
    await dialog.getByRole("button", { name: "Apply" }).click();
    await page.waitForFunction((n) => document.querySelectorAll("#dash-trend rect").length === n, 14);
    api = await edge("GET", `/v1/analytics/overview?${q}`, SK);
    lb = await edge("GET", `/v1/analytics/agents?${q}`, SK);
    if ((await tile("Created").innerText()) === String(api.volume.created) || attempt === 3) break;
    await page.waitForTimeout(1000);
  }
  assert.ok(api.volume.created >= 3, JSON.stringify(api.volume));
  assert.equal(await tile("Created").innerText(), String(api.volume.created));
  assert.equal(await tile("Resolved").innerText(), String(api.volume.resolved));
  assert.equal(await tile("Containment").innerText(), api.ai.containment_percent == null ? "—" : `${api.ai.containment_percent}%`);
  assert.equal(await tile("AI answers cited").innerText(), `${api.ai.cited}/${api.ai.answers}`);
  // The trend: a bar per day, each day's created count in its tooltip.
  const bars = await dialog.locator("#dash-trend rect").evaluateAll((rs) => rs.map((r) => [r.dataset.day, r.querySelector("title").textContent]));
  assert.deepEqual(bars.map(([d]) => d), api.by_day.map((d) => d.day));
  bars.forEach(([, title], i) => assert.ok(title.includes(`${api.by_day[i].created} created`), `${title} vs ${JSON.stringify(api.by_day[i])}`));
  // Channels and the heatmap hold the same counts.
  const channels = await dialog.locator("#dash-channels rect").evaluateAll((rs) => rs.map((r) => [r.dataset.key, Number(r.dataset.n)]));
  assert.deepEqual(channels, api.volume.by_channel.map((c) => [c.channel, c.created]));
  const heat = await dialog.locator("#dash-heatmap tbody td").evaluateAll((cs) => cs.reduce((a, c) => a + Number(c.textContent || 0), 0));
  assert.equal(heat, api.busiest_hours.flat().reduce((a, b) => a + b, 0));
  // The leaderboard: one row per agent, in the API's order, with its resolved count.
  const rows = await dialog.locator("#dash-agents tr").evaluateAll((trs) => trs.map((tr) => [tr.dataset.agent, tr.children[2].textContent]));
  assert.deepEqual(rows, lb.agents.map((a) => [a.agent_id, String(a.resolved)]));
  // Every report downloads as CSV for the chosen period.
  await dialog.locator("#dash-report").selectOption("by_day");
  const [download] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Download CSV" }).click()]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\r\n");
  assert.match(csv[0], /^day,created,resolved/);
  assert.equal(csv.length, 15);
  assert.equal(csv[14].split(",")[1], String(api.by_day[13].created));
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document.querySelector("#dashboard"), { runOnly: ["wcag2a", "wcag2aa"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  assert.deepEqual(axe.filter((v) => v.impact === "serious" || v.impact === "critical"), [], `axe: ${JSON.stringify(axe)}`);
  await page.screenshot({ path: `${SHOTS}/console-dashboard.png`, fullPage: true });
  await context.close();
});

await test("a conversation waiting past its SLA shows in the inbox's at-risk list and opens from it", async () => {
  const cfg = await edge("GET", "/v1/tenant/config", SK);
  cfg.config.sla = { business_hours: false, at_risk_percent: 1, policies: [{ priority: "urgent", first_response_minutes: 1 }] };
  await edge("PUT", "/v1/tenant/config", SK, { version: cfg.version, config: cfg.config });
  const started = await edge("POST", "/v1/conversations", SK, { name: "Rush Order", subject: "Rush order stuck" });
  const id = started.conversation.conversation_id;
  await edge("PATCH", `/v1/conversations/${id}`, SK, { priority: "urgent" });
  await fetch(`${BASE}/v1/conversations/${id}/handoff`, { method: "POST", headers: { authorization: `Bearer ${started.token}`, "content-type": "application/json" }, body: JSON.stringify({ reason: "rush" }) });
  // 1 % of a minute has passed within a second: at risk (the API says so first).
  let risk = [];
  for (let i = 0; i < 40 && !risk.some((r) => r.conversation_id === id); i++) {
    await new Promise((ok) => setTimeout(ok, 250));
    risk = (await edge("GET", "/v1/analytics/sla?days=1", SK)).at_risk;
  }
  assert.ok(risk.some((r) => r.conversation_id === id && r.clock === "first_response"), JSON.stringify(risk));
  const { context, page } = await consoleAs(AGENT);
  const list = page.locator("#at-risk");
  await list.locator("summary").click();
  const item = list.locator(`button[data-id="${id}"]`);
  await item.waitFor();
  assert.match(await item.innerText(), /Rush order stuck · urgent · first response/);
  await item.click();
  await page.locator("#conv-title").filter({ hasText: /Rush/ }).waitFor();
  await page.locator("#conv-sla").filter({ hasText: /^SLA first response (breached|due)/ }).waitFor();
  cfg.config.sla = { business_hours: true, at_risk_percent: 75, policies: [] };
  const now = await edge("GET", "/v1/tenant/config", SK);
  await edge("PUT", "/v1/tenant/config", SK, { version: now.version, config: cfg.config });
  await context.close();
});

await test("a conversation handed to the team shows its summary at the top; an agent summarises it again", async () => {
  const started = await edge("POST", "/v1/conversations", SK, { name: "Rita Summary" });
  const id = started.conversation.conversation_id;
  const say = (text, n) => fetch(`${BASE}/v1/conversations/${id}/messages`, { method: "POST", headers: { authorization: `Bearer ${started.token}`, "content-type": "application/json" }, body: JSON.stringify({ text, client_msg_id: `sum-${n}` }) });
  await say("My order 1042 arrived with a broken zipper on the jacket.", 1);
  await say("I want a replacement jacket for the broken zipper, not a refund.", 2);
  await fetch(`${BASE}/v1/conversations/${id}/handoff`, { method: "POST", headers: { authorization: `Bearer ${started.token}`, "content-type": "application/json" }, body: JSON.stringify({ reason: "wants a replacement" }) });
  const api = await edge("GET", `/v1/conversations/${id}/summary`, SK);
  assert.match(api.text, /zipper/);
  const { context, page } = await consoleAs(AGENT);
  await page.locator('.filters button[data-filter="pending_human"]').click();
  await page.locator(`#list button[data-id="${id}"]`).click();
  const box = page.locator("#conv-summary");
  await box.locator("#conv-summary-text").filter({ hasText: "zipper" }).waitFor();
  assert.equal(await box.locator("#conv-summary-text").innerText(), api.text);
  assert.equal(await box.locator("#conv-summary-label").innerText(), "Summary (key sentences)");
  await box.getByRole("button", { name: "Summarise now" }).click();
  for (let i = 0; i < 50 && (await edge("GET", `/v1/conversations/${id}/summary`, SK)).reason !== "request"; i++) await new Promise((ok) => setTimeout(ok, 100));
  assert.equal((await edge("GET", `/v1/conversations/${id}/summary`, SK)).reason, "request");
  await page.screenshot({ path: `${SHOTS}/console-summary.png` });
  await context.close();
});

await test("a reviewer scores an escalated conversation from the queue, asks the AI reviewer and sees the spread; the agent acknowledges", async () => {
  const invite = await edge("POST", "/v1/invitations", SK, { email: `reviewer-${Date.now()}@browser.example`, name: "Rae Reviewer", role: "reviewer" });
  const reviewer = await edge("POST", "/v1/invitations/accept", null, { token: invite.token });
  const reviewerJwt = (await edge("POST", "/v1/auth/token", SK, { user_id: reviewer.id })).access_token;
  const started = await edge("POST", "/v1/conversations", SK, { name: "Quinn Quality" });
  const id = started.conversation.conversation_id;
  const post = (token, path, body) => fetch(`${BASE}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  await post(started.token, `/v1/conversations/${id}/messages`, { text: "My parcel never arrived", client_msg_id: "q1" });
  await post(started.token, `/v1/conversations/${id}/handoff`, { reason: "parcel lost" });
  await post(AGENT, `/v1/conversations/${id}/messages`, { text: "Hi Quinn, sorry about that! I have sent a new parcel today. Thanks for waiting.", client_msg_id: "q2" });
  await edge("POST", `/v1/conversations/${id}/status`, SK, { status: "resolved" });

  const { context, page } = await consoleAs(reviewerJwt);
  await page.getByRole("button", { name: "Quality" }).click();
  const dialog = page.locator("#quality");
  const row = dialog.locator("#queue-rows tr").filter({ hasText: id });
  await row.waitFor();
  assert.match(await row.innerText(), /escalation/);
  await row.getByRole("button", { name: id }).click();
  const form = page.locator("#review-form");
  await form.waitFor();
  await form.getByLabel(/Greeted the customer/).selectOption("yes");
  await form.getByLabel(/Understood the customer/).selectOption("5");
  await form.getByLabel(/Gave correct, complete/).selectOption("4");
  await form.getByLabel(/Resolved the issue/).selectOption("yes");
  await form.getByLabel(/Acknowledged the customer/).selectOption("na");
  await form.getByLabel("Comment").fill("Good save.");
  await form.getByRole("button", { name: "Submit review" }).click();
  await page.locator("#review-status").filter({ hasText: "Saved: 91.7." }).waitFor();
  await form.getByRole("button", { name: "AI review" }).click();
  await page.locator("#reviews li").filter({ hasText: "Heuristic" }).waitFor();
  await page.locator("#calibration").filter({ hasText: /2 reviews of support-basics/ }).waitFor();
  const api = await edge("GET", `/v1/conversations/${id}/reviews`, SK);
  assert.equal(api.items.length, 2);
  assert.ok((await page.locator("#calibration").innerText()).includes(`spread ${api.calibration[0].spread}`));
  await page.screenshot({ path: `${SHOTS}/console-review.png` });
  await context.close();

  // The agent whose conversation it was answers the review.
  const agentSide = await consoleAs(AGENT);
  await agentSide.page.getByRole("button", { name: "Quality" }).click();
  const mine = agentSide.page.locator("#review-rows tr").filter({ hasText: id }).filter({ hasText: "Rae Reviewer" });
  await mine.waitFor();
  assert.equal(await agentSide.page.locator("#queue-section").isVisible(), false, "agents have no queue");
  await mine.getByRole("button", { name: "Acknowledge" }).click();
  await agentSide.page.locator("#review-rows tr").filter({ hasText: id }).filter({ hasText: "acknowledged" }).first().waitFor();
  const after = await edge("GET", `/v1/conversations/${id}/reviews`, SK);
  assert.ok(after.items.some((r) => r.reviewer_id === reviewer.id && r.status === "acknowledged"));
  await agentSide.context.close();
});

await test("agents see no webhooks settings or customer-data actions", async () => {
  const { context, page } = await consoleAs(AGENT);
  assert.equal(await page.locator("#webhooks-open").isVisible(), false);
  assert.equal(await page.locator("#crm-open").isVisible(), false);
  await page.locator("#list button").first().click();
  await page.locator("#customer dt").first().waitFor();
  assert.equal(await page.locator("#privacy").isVisible(), false);
  await context.close();
});

site.server.close();
stranger.server.close();
await browser.close();
const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${SHOTS}`);
process.exit(failed.length ? 1 : 0);
