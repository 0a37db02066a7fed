/* PrismAI Edge chat widget. One script, no framework, no external requests but to its own origin.
 *   <script src="https://YOUR-EDGE/widget.js" data-key="pk_…" async></script>
 * Optional: data-user-id + data-user-hash (verified customer), data-name, data-email,
 * data-color, data-greeting, data-position (right|left), data-lang, data-title.
 * Live over WebSocket; falls back to Server-Sent Events + POST when WebSockets are blocked;
 * resumes by sequence number after a drop or a reload; retries sends with the same id. */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector("script[data-key][src*='widget']");
  if (!script || window.__prismWidget) return;
  window.__prismWidget = true;
  const d = script.dataset;
  const key = d.key;
  const base = new URL(script.src, location.href).origin;
  const storeKey = `prism:${key}`;
  const T = {
    en: { open: "Open chat", close: "Close chat", title: "Chat with us", placeholder: "Type your message…", send: "Send",
          connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "You are offline — messages will be sent when you reconnect.",
          human: "Connecting you with a person…", agent: (n) => `${n} joined the conversation`, left: (n) => `${n} left`,
          typing: "typing…", seen: "Seen", sources: "Sources", resolved: "This conversation was resolved.", closed: "This conversation is closed.",
          you: "You", assistant: "Assistant", talk: "Talk to a person", greeting: "Hi! How can we help?", failed: "Not sent — retrying" },
  };
  const t = T[(d.lang || "en").slice(0, 2)] || T.en;
  const color = /^#[0-9a-fA-F]{3,8}$/.test(d.color || "") ? d.color : "#4f46e5";
  const left = d.position === "left";

  // ---------------------------------------------------------------- state (survives reloads)
  let state = load();
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch { /* private mode */ }
  }
  state.pending = state.pending || [];
  state.last_seq = state.last_seq || 0;

  // ---------------------------------------------------------------- DOM (Shadow DOM: host CSS cannot leak in)
  const host = document.createElement("div");
  host.id = "prism-chat";
  const root = host.attachShadow({ mode: "open" });
  const css = `
:host { all: initial; }
/* Inherited properties cross the shadow boundary: reset the ones host pages like to set. */
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; letter-spacing: normal;
  word-spacing: normal; text-transform: none; text-align: left; font-style: normal; font-weight: 400; text-indent: 0; }
.launcher { position: fixed; bottom: 20px; ${left ? "left" : "right"}: 20px; width: 56px; height: 56px; border-radius: 50%;
  border: none; background: ${color}; color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483000;
  display: flex; align-items: center; justify-content: center; padding: 0; }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.panel { position: fixed; bottom: 88px; ${left ? "left" : "right"}: 20px; width: 370px; max-width: calc(100vw - 24px); height: 540px;
  max-height: calc(100vh - 110px); background: #fff; color: #111827; border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.25);
  display: flex; flex-direction: column; overflow: hidden; z-index: 2147483000; transition: transform .18s ease, opacity .18s ease; }
.panel[hidden] { display: none; }
header { background: ${color}; color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }
header h2 { font-size: 16px; margin: 0; flex: 1; }
header button { background: transparent; border: 0; color: #fff; font-size: 20px; cursor: pointer; padding: 4px 8px; border-radius: 6px; }
.status { font-size: 12px; padding: 6px 12px; background: #fef3c7; color: #78350f; }
.status[hidden] { display: none; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f9fafb; }
.msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; line-height: 1.4; font-size: 14px; white-space: pre-wrap; word-wrap: break-word; }
.msg.customer { align-self: flex-end; background: ${color}; color: #fff; border-bottom-right-radius: 4px; }
.msg.ai, .msg.agent, .msg.system { align-self: flex-start; background: #fff; border: 1px solid #e5e7eb; border-bottom-left-radius: 4px; }
.msg .who { display: block; font-size: 11px; font-weight: 700; margin-bottom: 2px; }
header h2, form button { font-weight: 600; }
.msg.pending { outline: 2px dashed #9ca3af; outline-offset: 1px; }
.sources { margin-top: 6px; font-size: 12px; }
.sources a { color: ${color}; }
.msg.customer .sources a { color: #fff; }
.note { align-self: center; font-size: 12px; color: #6b7280; }
.typing { font-size: 12px; color: #6b7280; padding: 0 12px 6px; min-height: 18px; background: #f9fafb; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }
textarea { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 8px; padding: 8px; font-size: 14px; min-height: 40px; max-height: 120px; color: #111827; }
form button { background: ${color}; color: #fff; border: 0; border-radius: 8px; padding: 0 14px; cursor: pointer; font-size: 14px; }
.human { font-size: 12px; background: none; border: 0; color: ${color}; cursor: pointer; padding: 4px 12px 8px; text-align: left; text-decoration: underline; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 480px) { .panel { inset: 0; width: 100vw; max-width: 100vw; height: 100vh; max-height: 100vh; border-radius: 0; } }
@media (prefers-reduced-motion: reduce) { .panel { transition: none; } }
`;
  // A constructed stylesheet works under strict host CSPs (no inline <style> needed).
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch {
    const style = document.createElement("style");
    style.textContent = css;
    root.append(style);
  }
  const tpl = document.createElement("template");
  tpl.innerHTML = `
<button class="launcher" type="button" aria-expanded="false" aria-controls="prism-panel" aria-label="${t.open}"><svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg></button>
<section class="panel" id="prism-panel" role="dialog" aria-modal="false" aria-labelledby="prism-title" hidden>
  <header><h2 id="prism-title"></h2><button type="button" class="close" aria-label="${t.close}">✕</button></header>
  <div class="status" role="status" hidden></div>
  <div class="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0" aria-label="Messages"></div>
  <div class="typing" aria-live="polite"></div>
  <button type="button" class="human">${t.talk}</button>
  <form>
    <label class="sr" for="prism-input">${t.placeholder}</label>
    <textarea id="prism-input" rows="1" placeholder="${t.placeholder}" maxlength="4000"></textarea>
    <button type="submit">${t.send}</button>
  </form>
</section>`;
  root.append(tpl.content);
  const $ = (s) => root.querySelector(s);
  const launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), statusEl = $(".status"), typingEl = $(".typing");
  const input = $("textarea"), form = $("form"), humanBtn = $(".human");
  $("#prism-title").textContent = d.title || t.title;

  function setStatus(text) {
    statusEl.textContent = text || "";
    statusEl.hidden = !text;
  }

  const bubbles = new Map(); // seq -> element
  const drafts = new Map(); // reply_to -> element (streaming AI answer)
  function whoLabel(author) {
    if (author.type === "customer") return t.you;
    if (author.type === "ai") return d.assistant || t.assistant;
    return author.name || "Agent";
  }
  function safeUrl(u) {
    try { const x = new URL(u); return x.protocol === "https:" || x.protocol === "http:" ? x.href : null; } catch { return null; }
  }
  function renderCitations(el, meta) {
    const cites = meta && Array.isArray(meta.citations) ? meta.citations : [];
    if (!cites.length) return;
    const box = document.createElement("div");
    box.className = "sources";
    box.append(`${t.sources}: `);
    cites.forEach((c, i) => {
      const href = c.url && safeUrl(c.url);
      const node = href ? Object.assign(document.createElement("a"), { href, target: "_blank", rel: "noopener noreferrer" }) : document.createElement("span");
      node.textContent = c.title || `[${i + 1}]`;
      box.append(node);
      if (i < cites.length - 1) box.append(", ");
    });
    el.append(box);
  }
  function bubble(kind, author, text) {
    const el = document.createElement("div");
    el.className = `msg ${kind}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = whoLabel(author);
    const body = document.createElement("span");
    body.className = "body";
    body.textContent = text; // never innerHTML: messages and knowledge are text
    el.append(who, body);
    log.append(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }
  function note(text) {
    const el = document.createElement("div");
    el.className = "note";
    el.textContent = text;
    log.append(el);
    log.scrollTop = log.scrollHeight;
  }
  function showMessage(m) {
    if (bubbles.has(m.seq)) return;
    const cid = m.client_msg_id || "";
    let el = null;
    if (m.author.type === "customer" && cid) el = log.querySelector(`[data-client="${CSS.escape(cid)}"]`);
    if (!el && m.author.type === "ai" && cid.startsWith("ai:")) {
      el = drafts.get(Number(cid.slice(3))) || null;
      drafts.delete(Number(cid.slice(3)));
      if (el) { el.querySelector(".body").textContent = m.text; el.removeAttribute("aria-busy"); }
    }
    if (!el) el = bubble(m.author.type, m.author, m.text);
    el.classList.remove("pending");
    el.dataset.seq = m.seq;
    renderCitations(el, m.meta);
    bubbles.set(m.seq, el);
    if (m.seq > state.last_seq) { state.last_seq = m.seq; save(); }
  }
  function aiDelta(f) {
    let el = drafts.get(f.reply_to);
    if (!el) {
      el = bubble("ai", { type: "ai" }, "");
      el.setAttribute("aria-busy", "true");
      drafts.set(f.reply_to, el);
    }
    const body = el.querySelector(".body");
    body.textContent += f.text;
    log.scrollTop = log.scrollHeight;
  }
  function showStatus(f) {
    if (f.status === "pending_human") setStatus(t.human);
    else if (f.status === "resolved") setStatus(t.resolved);
    else if (f.status === "closed") setStatus(t.closed);
    else setStatus("");
  }

  // ---------------------------------------------------------------- API
  async function api(method, path, body, useToken) {
    const sep = path.includes("?") ? "&" : "?";
    const url = `${base}${path}${useToken ? "" : `${sep}key=${encodeURIComponent(key)}`}`;
    const headers = { "content-type": "application/json" };
    if (useToken) headers.authorization = `Bearer ${state.token}`;
    const extra = body && body.__idem ? { "idempotency-key": body.__idem } : {};
    if (body) delete body.__idem;
    const res = await fetch(url, { method, headers: { ...headers, ...extra }, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(json.error ? json.error.message : res.statusText), { status: res.status, body: json });
    return json;
  }
  async function ensureConversation() {
    if (state.conversation_id && state.token) return;
    const body = { name: d.name || undefined, email: d.email || undefined, visitor_id: state.visitor_id };
    if (d.userId && d.userHash) Object.assign(body, { user_id: d.userId, user_hash: d.userHash, visitor_id: undefined });
    const r = await api("POST", "/v1/conversations", body);
    Object.assign(state, { conversation_id: r.conversation.conversation_id, token: r.token, visitor_id: r.visitor_id || state.visitor_id, last_seq: 0 });
    save();
  }
  async function refreshToken() {
    const body = d.userId && d.userHash ? { user_id: d.userId, user_hash: d.userHash } : { visitor_id: state.visitor_id };
    try {
      const r = await api("POST", `/v1/conversations/${state.conversation_id}/token`, body);
      state.token = r.token;
      save();
    } catch (e) {
      // The conversation is gone or not ours any more: start a new one.
      Object.assign(state, { conversation_id: null, token: null, last_seq: 0, pending: [] });
      save();
    }
  }

  // ---------------------------------------------------------------- transport: WebSocket first, SSE + POST fallback
  let ws = null, es = null, mode = null, wsFailures = 0, retry = 0, opened = false;
  function onFrame(f) {
    switch (f.type) {
      case "welcome": showStatus(f); break;
      case "message": showMessage(f); if (f.author.type !== "customer") sendRead(); break;
      case "ack": onAck(f); break;
      case "ai.delta": aiDelta(f); break;
      case "status": showStatus(f); break;
      case "presence": note(f.state === "joined" ? t.agent(f.agent.name) : t.left(f.agent.name)); break;
      case "typing": typingEl.textContent = f.typing ? `${f.author.name || ""} ${t.typing}` : ""; clearTimeout(onFrame.tt); onFrame.tt = setTimeout(() => (typingEl.textContent = ""), 4000); break;
      case "read": { const el = bubbles.get(f.up_to_seq); if (el && f.author.type !== "customer") el.title = t.seen; break; }
      case "error": if (f.code === "conversation_closed") setStatus(t.closed); break;
    }
  }
  function onAck(a) {
    state.pending = state.pending.filter((p) => p.client_msg_id !== a.client_msg_id);
    save();
    const el = log.querySelector(`[data-client="${CSS.escape(a.client_msg_id)}"]`);
    if (el) { el.classList.remove("pending"); el.dataset.seq = a.seq; bubbles.set(a.seq, el); }
  }
  let historyLoaded = false;
  async function loadHistory() {
    // After a reload: show the conversation so far, then resume live from its last message.
    if (historyLoaded || !state.conversation_id) return;
    historyLoaded = true;
    try {
      const h = await api("GET", `/v1/conversations/${state.conversation_id}/messages?limit=100`, null, true);
      h.messages.forEach(showMessage);
      if (h.status && h.status !== "open") showStatus({ status: h.status });
      for (const p of state.pending) {
        if (!log.querySelector(`[data-client="${CSS.escape(p.client_msg_id)}"]`)) {
          const el = bubble("customer", { type: "customer" }, p.text);
          el.classList.add("pending");
          el.dataset.client = p.client_msg_id;
        }
      }
    } catch (e) {
      if (e.status === 401) await refreshToken();
      else if (e.status === 404) Object.assign(state, { conversation_id: null, token: null, last_seq: 0, pending: [] }), save();
    }
  }
  async function connect() {
    if (!state.conversation_id) return;
    await loadHistory();
    if (!state.conversation_id) return;
    if (mode === "sse" || wsFailures >= 2 || !("WebSocket" in window)) return connectSse();
    setStatus(opened ? t.reconnecting : t.connecting);
    const url = `${base.replace(/^http/, "ws")}/v1/conversations/${state.conversation_id}/live?token=${encodeURIComponent(state.token)}`;
    let didOpen = false;
    const sock = new WebSocket(url);
    ws = sock;
    const timer = setTimeout(() => { if (!didOpen) sock.close(); }, 5000);
    sock.onopen = () => {
      didOpen = true; opened = true; retry = 0; wsFailures = 0; mode = "ws";
      clearTimeout(timer);
      setStatus("");
      sock.send(JSON.stringify({ type: "hello", last_seq: state.last_seq }));
      flushPending();
      keepAlive();
    };
    sock.onmessage = (e) => { try { onFrame(JSON.parse(e.data)); } catch { /* ignore */ } };
    sock.onclose = async (e) => {
      clearTimeout(timer);
      if (ws !== sock) return;
      ws = null;
      if (!didOpen) wsFailures++;
      if (e.code === 1008 || e.code === 4401) await refreshToken();
      scheduleReconnect();
    };
  }
  function keepAlive() {
    clearInterval(keepAlive.i);
    keepAlive.i = setInterval(() => { if (ws && ws.readyState === 1) ws.send('{"type":"ping"}'); }, 30000);
  }
  function connectSse() {
    mode = "sse";
    if (es) es.close();
    setStatus(opened ? t.reconnecting : t.connecting);
    const url = `${base}/v1/conversations/${state.conversation_id}/events?token=${encodeURIComponent(state.token)}&after_seq=${state.last_seq}`;
    es = new EventSource(url);
    es.addEventListener("welcome", (e) => { opened = true; retry = 0; setStatus(""); onFrame(JSON.parse(e.data)); flushPending(); });
    es.addEventListener("message", (e) => onFrame(JSON.parse(e.data)));
    es.addEventListener("status", (e) => onFrame(JSON.parse(e.data)));
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) { es = null; scheduleReconnect(); } else setStatus(t.reconnecting); };
  }
  function scheduleReconnect() {
    if (!navigator.onLine) { setStatus(t.offline); return; }
    setStatus(t.reconnecting);
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, Math.min(15000, 400 * 2 ** retry) * (0.8 + Math.random() * 0.4));
  }
  window.addEventListener("online", () => { if (!ws && !es) connect(); });
  window.addEventListener("offline", () => setStatus(t.offline));

  async function flushPending() {
    for (const p of [...state.pending]) await transmit(p);
  }
  async function transmit(p) {
    if (mode === "ws" && ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ type: "message", client_msg_id: p.client_msg_id, text: p.text }));
      return;
    }
    if (mode === "sse") {
      try {
        const r = await api("POST", `/v1/conversations/${state.conversation_id}/messages`, { text: p.text, __idem: p.client_msg_id }, true);
        onAck(r.ack);
        showMessage(r.message);
      } catch (e) {
        if (e.status === 401) await refreshToken();
      }
    }
  }
  function sendRead() {
    if (mode === "ws" && ws && ws.readyState === 1 && !panel.hidden) ws.send(JSON.stringify({ type: "read", up_to_seq: state.last_seq }));
  }

  async function send(text) {
    text = text.trim();
    if (!text) return;
    try { await ensureConversation(); } catch { setStatus(t.failed); }
    const p = { client_msg_id: (crypto.randomUUID && crypto.randomUUID()) || `m${Date.now()}${Math.random()}`, text };
    state.pending.push(p);
    save();
    const el = bubble("customer", { type: "customer" }, text);
    el.classList.add("pending");
    el.dataset.client = p.client_msg_id;
    if (!ws && !es) connect();
    else await transmit(p);
  }

  // ---------------------------------------------------------------- interaction
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t.close);
    if (!log.childElementCount) note(d.greeting || t.greeting);
    input.focus();
    if (state.conversation_id && !ws && !es) connect();
    sendRead();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", t.open);
    launcher.focus();
  }
  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  $(".close").addEventListener("click", close);
  root.addEventListener("keydown", (e) => { if (e.key === "Escape" && !panel.hidden) { e.preventDefault(); close(); } });
  form.addEventListener("submit", (e) => { e.preventDefault(); const v = input.value; input.value = ""; send(v); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); return; }
    if (mode === "ws" && ws && ws.readyState === 1) {
      const now = Date.now();
      if (!input.lastTyping || now - input.lastTyping > 2500) { input.lastTyping = now; ws.send('{"type":"typing"}'); }
    }
  });
  humanBtn.addEventListener("click", async () => {
    try {
      await ensureConversation();
      if (!ws && !es) connect();
      await api("POST", `/v1/conversations/${state.conversation_id}/handoff`, {}, true);
    } catch { /* status arrives over the live connection */ }
  });

  document.body.append(host);
  // A returning visitor resumes their conversation where they left it.
  if (state.conversation_id) connect();
  window.PrismChat = { open, close, send, get state() { return { ...state }; } };
})();
