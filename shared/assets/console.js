/* PrismAI Edge agent console: the inbox with live updates, the transcript of every channel,
 * replies (with /shortcut canned responses), internal notes, take over, assign, resolve/reopen,
 * release to the AI, and the customer's details and the AI's analysis. Plain DOM; all text is
 * rendered with textContent. Signs in with an agent JWT (URL fragment or pasted), refreshed
 * before it expires. */
(() => {
  "use strict";
  const $ = (s) => document.querySelector(s);
  const el = (tag, props = {}, ...kids) => { const e = Object.assign(document.createElement(tag), props); e.append(...kids); return e; };
  let token = null, me = null, filter = "open", current = null, convWs = null, inboxWs = null, canned = [], users = [];
  const seen = new Set();
  const drafts = new Map();

  // ------------------------------------------------------------ auth
  function claims(t) {
    try { return JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))); } catch { return null; }
  }
  async function api(method, path, body, extraHeaders = {}) {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}), ...extraHeaders },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 204) return null;
    const json = await res.json().catch(() => ({}));
    if (res.status === 401) { signOut("Your session ended; sign in again."); throw new Error("unauthorised"); }
    if (!res.ok) throw new Error(json.error ? json.error.message : res.statusText);
    return json;
  }
  async function refresh() {
    try {
      const r = await api("POST", "/v1/auth/refresh", {});
      token = r.access_token;
      sessionStorage.setItem("prism-agent-token", token);
      reconnectLive();
    } catch { /* handled by api */ }
  }
  function signOut(msg) {
    sessionStorage.removeItem("prism-agent-token");
    token = null;
    if (convWs) convWs.close();
    if (inboxWs) inboxWs.close();
    $("#app").hidden = true;
    $("#signin").hidden = false;
    $("#signin-error").textContent = msg || "";
  }
  async function signIn(t) {
    const c = claims(t);
    if (!c || !c.sub) { $("#signin-error").textContent = "That is not an agent token."; return; }
    token = t;
    sessionStorage.setItem("prism-agent-token", t);
    try {
      me = await api("GET", `/v1/users/${encodeURIComponent(c.sub)}`);
      const tenant = await api("GET", "/v1/tenant");
      $("#tenant-name").textContent = `— ${tenant.tenant.name}`;
    } catch (e) { $("#signin-error").textContent = e.message; return; }
    $("#me").textContent = `${me.name} (${me.role})`;
    $("#signin").hidden = true;
    $("#app").hidden = false;
    users = (await api("GET", "/v1/users?limit=100")).items.filter((u) => u.status === "active" && u.role !== "viewer");
    const assign = $("#assign");
    users.forEach((u) => assign.append(el("option", { value: u.id, textContent: u.name })));
    canned = (await api("GET", "/v1/canned-responses?limit=100")).items;
    await loadList();
    connectInbox();
    // Tokens live 15 minutes: refresh well before.
    const ttl = ((c.exp || 0) * 1000 - Date.now());
    setInterval(refresh, Math.max(60_000, Math.min(10 * 60_000, ttl - 120_000)));
  }
  $("#signin-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#token-input").value.trim()); });
  $("#sign-out").addEventListener("click", () => signOut());

  // ------------------------------------------------------------ inbox
  async function loadList() {
    const q = new URLSearchParams({ limit: "100" });
    if (filter === "mine") q.set("assignee", "me");
    else q.set("status", filter);
    if ($("#channel").value) q.set("channel", $("#channel").value);
    const page = await api("GET", `/v1/conversations?${q}`);
    const list = $("#list");
    list.replaceChildren();
    page.items.sort((a, b) => (b.last_message_at || b.created_at) - (a.last_message_at || a.created_at));
    for (const c of page.items) {
      const b = el("button", { type: "button" },
        el("span", { className: "name", textContent: c.customer_name || `Visitor ${c.customer_id.slice(4, 10)}` }),
        c.unread_agent ? el("span", { className: "badge", textContent: String(c.unread_agent) }) : "",
        el("span", { className: "preview", textContent: `${c.channel} · ${c.status}${c.assignee_id ? " · assigned" : ""} — ${c.last_message_preview || ""}` }));
      b.dataset.id = c.id;
      if (current === c.id) b.setAttribute("aria-current", "true");
      b.addEventListener("click", () => openConversation(c.id));
      list.append(el("li", {}, b));
    }
  }
  document.querySelectorAll("[data-filter]").forEach((b) => b.addEventListener("click", () => {
    filter = b.dataset.filter;
    document.querySelectorAll("[data-filter]").forEach((x) => x.setAttribute("aria-selected", String(x === b)));
    loadList();
  }));
  $("#channel").addEventListener("change", loadList);

  function connectInbox() {
    if (inboxWs) inboxWs.close();
    // The agent token travels as a subprotocol: never in a URL, where logs would keep it.
    const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/v1/inbox/live`, ["prism.v1", `bearer.${token}`]);
    inboxWs = ws;
    ws.onopen = () => { $("#live-state").textContent = "online"; $("#live-state").classList.add("on"); };
    ws.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      if (ev.type !== "event") return;
      clearTimeout(connectInbox.t);
      connectInbox.t = setTimeout(loadList, 150);
      if (current && ev.conversation_id === current && ev.kind !== "message.created") loadDetails(current);
    };
    ws.onclose = (e) => {
      if (inboxWs !== ws) return;
      // 4003: the server closed the socket because this agent's access ended.
      if (e.code === 4003) { signOut("Your access was revoked or your role changed."); return; }
      $("#live-state").textContent = "reconnecting"; $("#live-state").classList.remove("on");
      if (token) setTimeout(connectInbox, 2000);
    };
  }
  function reconnectLive() {
    connectInbox();
    if (current) connectConversation(current);
  }

  // ------------------------------------------------------------ conversation
  function safeUrl(u) { try { const x = new URL(u); return /^https?:$/.test(x.protocol) ? x.href : null; } catch { return null; } }
  function who(a) { return a.type === "customer" ? (a.name || "Customer") : a.type === "ai" ? "AI assistant" : a.name || a.type; }
  function render(m, kind) {
    const key = `${kind}:${m.seq}`;
    if (seen.has(key)) return;
    seen.add(key);
    const cid = m.client_msg_id || "";
    let box = kind === "message" && m.author.type === "ai" && cid.startsWith("ai:") ? drafts.get(cid.slice(3)) : null;
    if (box) { box.querySelector(".body").textContent = m.text; drafts.delete(cid.slice(3)); }
    else {
      box = el("div", { className: `msg ${kind === "note" ? "note" : m.author.type}` },
        el("span", { className: "who", textContent: kind === "note" ? `Note · ${who(m.author)}` : who(m.author) }),
        el("span", { className: "body", textContent: m.text }));
      $("#transcript").append(box);
    }
    const meta = m.meta || {};
    const bits = [];
    if (meta.provider) bits.push(`${meta.provider}${meta.model ? ` · ${meta.model}` : ""}${meta.latency_ms != null ? ` · ${meta.latency_ms} ms` : ""}`);
    if (meta.handoff) bits.push(`handoff: ${meta.handoff}`);
    if (meta.incomplete) bits.push("incomplete");
    if (bits.length || (meta.citations || []).length) {
      const line = el("span", { className: "meta", textContent: bits.join(" · ") });
      (meta.citations || []).forEach((c) => {
        const href = c.url && safeUrl(c.url);
        line.append(" · ", href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", textContent: c.title }) : el("span", { textContent: c.title }));
      });
      box.append(line);
    }
    $("#transcript").scrollTop = $("#transcript").scrollHeight;
  }
  function event(text) { $("#transcript").append(el("div", { className: "event", textContent: text })); }

  async function openConversation(id) {
    current = id;
    seen.clear();
    drafts.clear();
    $("#transcript").replaceChildren();
    document.querySelectorAll("#list button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.id === id)));
    const h = await api("GET", `/v1/conversations/${id}/messages?limit=200`);
    const items = [...h.messages.map((m) => ["message", m]), ...(h.notes || []).map((n) => ["note", n])].sort((a, b) => a[1].ts - b[1].ts);
    items.forEach(([k, m]) => render(m, k));
    await loadDetails(id);
    ["#reply", "#send", "#take-over", "#assign", "#release", "#resolve", "#reopen"].forEach((s) => ($(s).disabled = false));
    connectConversation(id);
    if (h.last_seq) api("POST", `/v1/conversations/${id}/read`, { up_to_seq: h.last_seq }).catch(() => {});
  }
  async function loadDetails(id) {
    const d = await api("GET", `/v1/conversations/${id}`);
    const c = d.conversation, cu = d.customer;
    $("#conv-title").textContent = `${c.customer_name} · ${c.channel}`;
    $("#conv-status").textContent = `${c.status}${c.handoff_reason ? ` (${c.handoff_reason})` : ""}${c.assignee_name ? ` · ${c.assignee_name}` : ""}`;
    $("#assign").value = c.assignee_id || "";
    const dl = $("#customer");
    dl.replaceChildren();
    for (const [k, v] of [["Name", cu.name], ["Identity", `${cu.kind}: ${cu.external_id}`], ["Email", cu.email], ["Phone", cu.phone], ["Tags", c.tags.join(", ")], ["Priority", c.priority], ["Since", new Date(cu.created_at).toLocaleString()]]) {
      if (v) dl.append(el("dt", { textContent: k }), el("dd", { textContent: v }));
    }
    const a = await api("GET", `/v1/conversations/${id}/analysis`);
    const ul = $("#analysis");
    ul.replaceChildren();
    for (const r of a.items) {
      ul.append(el("li", { textContent: `#${r.seq}: ${r.intent}, sentiment ${r.sentiment.toFixed(2)}, ${r.language}${r.topics.length ? `, ${r.topics.join(", ")}` : ""} (${r.source})` }));
    }
  }
  function connectConversation(id) {
    if (convWs) convWs.close();
    const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/v1/conversations/${id}/live`, ["prism.v1", `bearer.${token}`]);
    convWs = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", last_seq: Math.max(0, ...[...seen].filter((k) => k.startsWith("message:")).map((k) => Number(k.slice(8)))) }));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (current !== id) return;
      if (f.type === "message") render(f, "message");
      else if (f.type === "note") render(f, "note");
      else if (f.type === "ai.delta") {
        let box = drafts.get(String(f.reply_to));
        if (!box) {
          box = el("div", { className: "msg ai" }, el("span", { className: "who", textContent: "AI assistant (typing)" }), el("span", { className: "body" }));
          drafts.set(String(f.reply_to), box);
          $("#transcript").append(box);
        }
        box.querySelector(".body").textContent += f.text;
      } else if (f.type === "typing") {
        $("#typing").textContent = f.typing ? `${who(f.author)} is typing…` : "";
        clearTimeout(connectConversation.t);
        connectConversation.t = setTimeout(() => ($("#typing").textContent = ""), 4000);
      } else if (f.type === "status") { event(`Status: ${f.status}${f.assignee ? ` · ${f.assignee.name}` : ""}`); loadDetails(id); }
      else if (f.type === "presence") event(`${f.agent.name} ${f.state}`);
    };
    ws.onclose = () => { if (convWs === ws && token) setTimeout(() => current === id && connectConversation(id), 2000); };
  }

  // ------------------------------------------------------------ actions
  const act = (fn) => async () => { try { await fn(); await loadDetails(current); loadList(); } catch (e) { event(`Error: ${e.message}`); } };
  $("#take-over").addEventListener("click", act(() => api("POST", `/v1/conversations/${current}/handoff`, { reason: "agent_takeover" })));
  $("#release").addEventListener("click", act(() => api("POST", `/v1/conversations/${current}/status`, { status: "open" })));
  $("#resolve").addEventListener("click", act(() => api("POST", `/v1/conversations/${current}/status`, { status: "resolved" })));
  $("#reopen").addEventListener("click", act(() => api("POST", `/v1/conversations/${current}/status`, { status: "open" })));
  $("#assign").addEventListener("change", act(() => api("POST", `/v1/conversations/${current}/assign`, { user_id: $("#assign").value || null })));

  const reply = $("#reply"), list = $("#canned");
  function showCanned() {
    const m = reply.value.match(/^\/([\w-]*)$/);
    if (!m) { list.hidden = true; return; }
    const hits = canned.filter((c) => c.shortcut.startsWith(m[1])).slice(0, 8);
    list.replaceChildren(...hits.map((c, i) => {
      const li = el("li", { role: "option", textContent: `/${c.shortcut} — ${c.title}` });
      li.setAttribute("aria-selected", String(i === 0));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); reply.value = `/${c.shortcut}`; list.hidden = true; reply.focus(); });
      return li;
    }));
    list.hidden = !hits.length;
  }
  reply.addEventListener("input", showCanned);
  reply.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("#composer").requestSubmit(); }
    else if (e.key === "Tab" && !list.hidden) { e.preventDefault(); const first = canned.find((c) => c.shortcut.startsWith(reply.value.slice(1))); if (first) reply.value = `/${first.shortcut}`; list.hidden = true; }
    else if (convWs && convWs.readyState === 1) convWs.send('{"type":"typing"}');
  });
  $("#composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = reply.value.trim();
    if (!text || !current) return;
    reply.value = "";
    list.hidden = true;
    const note = document.querySelector("input[name=mode]:checked").value === "note";
    try {
      if (note) {
        const n = await api("POST", `/v1/conversations/${current}/notes`, { text });
        render(n, "note");
      } else {
        const key = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now());
        const r = await api("POST", `/v1/conversations/${current}/messages`, { text }, { "idempotency-key": key });
        render(r.message, "message");
      }
    } catch (err) { reply.value = text; event(`Not sent: ${err.message}`); }
  });

  // ------------------------------------------------------------ start
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) history.replaceState(null, "", location.pathname);
  const saved = fromHash || sessionStorage.getItem("prism-agent-token");
  if (saved) signIn(saved); else $("#signin").hidden = false;
})();
