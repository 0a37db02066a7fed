// Browser tests: the widget on /demo and the agent console, in Debian's Chromium driven by
// playwright-core, against the local runtime. Run by tests/tests/browser.rs, which starts the
// runtime and seeds the tenant; reads BASE, PK (public widget key), AGENT (agent JWT) and SHOTS
// (screenshot directory) from the environment. Exits non-zero on the first failure.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const { BASE, PK, AGENT, SHOTS } = process.env;
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
async function test(name, fn) {
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

await browser.close();
const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${SHOTS}`);
process.exit(failed.length ? 1 : 0);
