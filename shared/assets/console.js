/* PrismAI Edge agent console: the inbox with live updates, the transcript of every channel,
 * replies (with /shortcut canned responses), internal notes, take over, assign, resolve/reopen,
 * release to the AI, the customer panel (identities, every conversation) and the AI's analysis,
 * search across conversations, notifications (browser, sound, title badge), keyboard shortcuts
 * and translation both ways; for admins, webhook endpoints and their delivery log. Plain DOM; all text is rendered with textContent. Agents sign in
 * by email link, single sign-on or invitation (a session cookie the page never sees), or with a
 * pasted agent JWT. */
(() => {
  "use strict";
  const $ = (s) => document.querySelector(s);
  const el = (tag, props = {}, ...kids) => { const e = Object.assign(document.createElement(tag), props); e.append(...kids); return e; };
  let token = null, me = null, filter = "open", current = null, convWs = null, inboxWs = null, canned = [], users = [];
  const seen = new Set();
  const drafts = new Map();

  // ------------------------------------------------------------ auth
  // A console session lives in an HttpOnly cookie the page never sees; the page holds only the
  // 15-minute access token it trades the cookie for. Tokens pasted or minted by a server (no
  // session) are kept for the tab and refreshed with themselves.
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
  /** Calls a sign-in route (no bearer; the session cookie goes along where its path allows). */
  async function auth(method, path, body) {
    const res = await fetch(path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined, credentials: "same-origin" });
    const json = res.status === 204 ? {} : await res.json().catch(() => ({}));
    return { status: res.status, json };
  }
  async function sessionToken(retried) {
    const r = await auth("POST", "/v1/auth/session/refresh");
    if (r.status === 409 && !retried) { await new Promise((ok) => setTimeout(ok, 700)); return sessionToken(true); }
    return r.status === 200 ? r.json.access_token : null;
  }
  let refreshTimer = null;
  async function refresh() {
    try {
      if (claims(token)?.sid) {
        const t = await sessionToken();
        if (!t) { signOut("Your session ended; sign in again."); return; }
        token = t;
      } else {
        token = (await api("POST", "/v1/auth/refresh", {})).access_token;
        sessionStorage.setItem("prism-agent-token", token);
      }
      reconnectLive();
    } catch { /* handled by api */ }
  }
  /** Ends the console session on the server before showing the sign-in page again, so a reload
   * or a closed tab straight after cannot find the session still alive. */
  async function signOut(msg, everywhere) {
    const was = token;
    if (!was) return;
    token = null;
    sessionStorage.removeItem("prism-agent-token");
    clearInterval(refreshTimer);
    if (convWs) convWs.close();
    if (inboxWs) inboxWs.close();
    $("#app").hidden = true;
    signedInChrome(false);
    pending.clear();
    badge();
    $("#signin").hidden = false;
    $("#workspace-form").hidden = true;
    $("#methods").hidden = true;
    $("#signin-error").textContent = "Signing out…";
    const bearer = { authorization: `Bearer ${was}` };
    if (everywhere) await fetch("/v1/auth/sessions/revoke", { method: "POST", headers: bearer, keepalive: true }).catch(() => {});
    if (claims(was)?.sid) await fetch("/v1/auth/session/logout", { method: "POST", credentials: "same-origin", keepalive: true }).catch(() => {});
    $("#signin-error").textContent = msg || "";
    showWorkspace();
  }
  async function signIn(t) {
    const c = claims(t);
    if (!c || !c.sub) { $("#signin-error").textContent = "That is not an agent token."; return; }
    token = t;
    if (!c.sid) sessionStorage.setItem("prism-agent-token", t);
    try {
      me = await api("GET", `/v1/users/${encodeURIComponent(c.sub)}`);
      const tenant = await api("GET", "/v1/tenant");
      $("#tenant-name").textContent = `— ${tenant.tenant.name}`;
      localStorage.setItem("prism-workspace", tenant.tenant.slug);
    } catch (e) { $("#signin-error").textContent = e.message; return; }
    $("#me").textContent = `${me.name} (${me.role})`;
    $("#sign-out-all").hidden = !c.sid;
    $("#signin").hidden = true;
    $("#app").hidden = false;
    signedInChrome(true);
    users = (await api("GET", "/v1/users?limit=100")).items.filter((u) => u.status === "active" && u.role !== "viewer");
    const assign = $("#assign");
    assign.replaceChildren(el("option", { value: "", textContent: "Unassigned" }));
    users.forEach((u) => assign.append(el("option", { value: u.id, textContent: u.name })));
    canned = (await api("GET", "/v1/canned-responses?limit=100")).items;
    await loadList();
    connectInbox();
    // Tokens live 15 minutes: refresh well before.
    const ttl = ((c.exp || 0) * 1000 - Date.now());
    clearInterval(refreshTimer);
    refreshTimer = setInterval(refresh, Math.max(60_000, Math.min(10 * 60_000, ttl - 120_000)));
  }
  $("#signin-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#token-input").value.trim()); });
  $("#sign-out").addEventListener("click", () => signOut());
  $("#sign-out-all").addEventListener("click", () => signOut("Signed out on every device.", true));

  // The sign-in page: a workspace, then its methods (email link, single sign-on).
  let workspace = null;
  function showWorkspace() {
    $("#workspace-form").hidden = false;
    $("#methods").hidden = true;
    $("#link-sent").hidden = true;
    const saved = localStorage.getItem("prism-workspace");
    if (saved && !$("#workspace").value) $("#workspace").value = saved;
  }
  async function chooseWorkspace(slug) {
    const r = await auth("GET", `/v1/auth/methods?tenant=${encodeURIComponent(slug)}`);
    if (r.status !== 200) { $("#signin-error").textContent = "No workspace by that name."; return; }
    workspace = r.json.tenant;
    localStorage.setItem("prism-workspace", workspace);
    $("#signin-error").textContent = "";
    $("#workspace-name").textContent = r.json.name;
    $("#workspace-form").hidden = true;
    $("#methods").hidden = false;
    $("#sso").hidden = !r.json.oidc;
    $("#sso").textContent = r.json.oidc || "Single sign-on";
    $("#link-form").hidden = !r.json.magic_link;
    if (!r.json.oidc && !r.json.magic_link) $("#signin-error").textContent = "This workspace has no sign-in method set up yet; ask an admin for an agent token.";
  }
  $("#workspace-form").addEventListener("submit", (e) => { e.preventDefault(); chooseWorkspace($("#workspace").value.trim().toLowerCase()); });
  $("#change-workspace").addEventListener("click", showWorkspace);
  $("#sso").addEventListener("click", () => { location.href = `/v1/auth/oidc/start?tenant=${encodeURIComponent(workspace)}`; });
  $("#link-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await auth("POST", "/v1/auth/magic-link", { tenant: workspace, email: $("#email").value.trim() });
    if (r.status === 202) { $("#link-form").hidden = true; $("#link-sent").hidden = false; }
    else $("#signin-error").textContent = r.json.error ? r.json.error.message : "Could not send a link.";
  });

  const ERRORS = {
    forbidden: "That account may not sign in to this workspace. Ask an admin for an invitation.",
    invalid_token: "That sign-in attempt expired or was already used. Start again.",
    upstream_error: "The identity provider could not be reached or refused the sign-in.",
  };
  async function start() {
    const hash = new URLSearchParams(location.hash.slice(1));
    if ([...hash.keys()].length) history.replaceState(null, "", location.pathname);
    crmReturn = hash.get("crm");
    if (hash.get("token")) return signIn(hash.get("token"));
    if (hash.get("signin")) {
      const r = await auth("POST", "/v1/auth/magic-link/redeem", { token: hash.get("signin") });
      if (r.status === 200) return signIn(r.json.access_token);
      $("#signin-error").textContent = ERRORS.invalid_token;
    } else if (hash.get("invite")) {
      $("#signin").hidden = false;
      $("#invite").hidden = false;
      $("#accept-invite").onclick = async () => {
        const r = await auth("POST", "/v1/auth/invitation", { token: hash.get("invite") });
        $("#invite").hidden = true;
        if (r.status === 201) return signIn(r.json.access_token);
        $("#signin-error").textContent = "This invitation is used, revoked or expired. Ask for a new one.";
        showWorkspace();
      };
      return;
    } else if (hash.get("error")) {
      $("#signin-error").textContent = ERRORS[hash.get("error")] || "Sign-in failed.";
    }
    // A console session in the cookie (after single sign-on, or a reload) signs straight in.
    const fromSession = await sessionToken();
    if (fromSession) return signIn(fromSession);
    const saved = sessionStorage.getItem("prism-agent-token");
    if (saved) return signIn(saved);
    $("#signin").hidden = false;
    showWorkspace();
  }

  // ------------------------------------------------------------ inbox
  async function loadList() {
    const q = new URLSearchParams({ limit: "100", order: "recent" });
    if (filter === "mine") q.set("assignee", "me");
    else q.set("status", filter);
    if ($("#channel").value) q.set("channel", $("#channel").value);
    const page = await api("GET", `/v1/conversations?${q}`);
    const list = $("#list");
    list.replaceChildren();
    page.items.sort((a, b) => (b.last_message_at || b.created_at) - (a.last_message_at || a.created_at));
    for (const c of page.items) {
      known.set(c.id, c);
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
      onInboxEvent(ev);
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
      if (kind === "message" && m.author.type === "customer") {
        const b = el("button", { type: "button", className: "tr", textContent: "Translate" });
        b.setAttribute("aria-label", "Translate this message into my language");
        b.addEventListener("click", () => translateMessage(box, m.text));
        box.querySelector(".who").after(b);
      }
      $("#transcript").append(box);
    }
    if (kind === "message") box.dataset.seq = m.seq;
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
    renderFiles(box, meta);
    $("#transcript").scrollTop = $("#transcript").scrollHeight;
  }
  // A message's files: a download link each (fetched fresh when shown and before a click once
  // stale: links live ten minutes), images previewed.
  const fileSize = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`);
  function renderFiles(box, meta) {
    const list = Array.isArray(meta.attachments) ? meta.attachments.filter((f) => f && typeof f.id === "string") : [];
    if (!list.length || box.querySelector(".files")) return;
    const conv = current;
    const files = el("div", { className: "files" });
    for (const f of list) {
      const a = el("a", { className: "file", target: "_blank", rel: "noopener noreferrer", textContent: `${String(f.name || "file")} · ${fileSize(Number(f.size) || 0)}` });
      a.dataset.file = f.id;
      let expires = 0;
      const refresh = () => api("GET", `/v1/conversations/${conv}/files/${encodeURIComponent(f.id)}`).then((r) => {
        a.href = r.url;
        expires = r.expires_at;
        if (r.inline && !a.querySelector("img") && f.size <= 5 * 1024 * 1024) a.prepend(el("img", { src: r.url, alt: String(f.name || "") }));
      }).catch(() => {});
      const fresh = () => { if (Date.now() > expires - 60000) refresh(); };
      a.addEventListener("pointerenter", fresh);
      a.addEventListener("focus", fresh);
      refresh();
      files.append(a);
    }
    box.append(files);
  }
  function event(text) { $("#transcript").append(el("div", { className: "event", textContent: text })); }

  async function openConversation(id, seq) {
    current = id;
    pending.delete(id);
    badge();
    convLang = null;
    $("#translate-reply-label").hidden = true;
    seen.clear();
    drafts.clear();
    $("#transcript").replaceChildren();
    document.querySelectorAll("#list button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.id === id)));
    const h = await api("GET", `/v1/conversations/${id}/messages?limit=200`);
    const items = [...h.messages.map((m) => ["message", m]), ...(h.notes || []).map((n) => ["note", n])].sort((a, b) => a[1].ts - b[1].ts);
    items.forEach(([k, m]) => render(m, k));
    await loadDetails(id);
    ["#reply", "#send", "#attach", "#take-over", "#assign", "#release", "#resolve", "#reopen"].forEach((s) => ($(s).disabled = false));
    connectConversation(id);
    if (seq) {
      const found = document.querySelector(`#transcript .msg[data-seq="${Number(seq)}"]`);
      if (found) { found.classList.add("found"); found.scrollIntoView({ block: "center" }); }
    }
    if (h.last_seq) api("POST", `/v1/conversations/${id}/read`, { up_to_seq: h.last_seq }).catch(() => {});
  }
  async function loadDetails(id) {
    const d = await api("GET", `/v1/conversations/${id}`);
    const c = d.conversation, cu = d.customer;
    $("#conv-title").textContent = `${c.customer_name} · ${c.channel}`;
    $("#conv-status").textContent = `${c.status}${c.handoff_reason ? ` (${c.handoff_reason})` : ""}${c.assignee_name ? ` · ${c.assignee_name}` : ""}`;
    showSla(id);
    $("#assign").value = c.assignee_id || "";
    const dl = $("#customer");
    dl.replaceChildren();
    const profile = await api("GET", `/v1/customers/${encodeURIComponent(cu.id)}`);
    for (const [k, v] of [["Name", cu.name], ["Identity", `${cu.kind}: ${cu.external_id}`], ["Email", cu.email], ["Phone", cu.phone], ["Language", c.language], ["Channels", profile.channels.join(", ")], ["Tags", c.tags.join(", ")], ["Priority", c.priority], ["Since", new Date(cu.created_at).toLocaleString()]]) {
      if (v) dl.append(el("dt", { textContent: k }), el("dd", { textContent: v }));
    }
    $("#identities").replaceChildren(...(profile.identities.length ? profile.identities.map((i) => el("li", { textContent: `${i.kind}: ${i.name || ""} ${i.email || i.phone || i.external_id}`.replace(/\s+/g, " ") })) : [el("li", { textContent: "No other identities" })]));
    $("#history").replaceChildren(...profile.conversations.map((h) => {
      const b = el("button", { type: "button", textContent: `${new Date(h.created_at).toLocaleDateString()} · ${h.channel} · ${h.status}${h.last_message_preview ? ` — ${h.last_message_preview}` : ""}` });
      if (h.id === id) b.setAttribute("aria-current", "true");
      b.addEventListener("click", () => openConversation(h.id));
      return el("li", {}, b);
    }));
    if (c.language) { convLang = c.language; showTranslateReply(); }
    showPrivacy(cu);
    showSurvey(id);
    showSummary(id);
    showReviews(id);
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
      if (!note && wantsTranslation()) {
        // Translated first; nothing is sent when translation fails.
        const t = await api("POST", `/v1/conversations/${current}/translate`, { text, to: convLang });
        const key = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now());
        const r = await api("POST", `/v1/conversations/${current}/messages`, { text: t.text }, { "idempotency-key": key });
        render(r.message, "message");
      } else if (note) {
        const n = await api("POST", `/v1/conversations/${current}/notes`, { text });
        render(n, "note");
      } else {
        const key = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now());
        const r = await api("POST", `/v1/conversations/${current}/messages`, { text }, { "idempotency-key": key });
        render(r.message, "message");
      }
    } catch (err) { reply.value = text; event(`Not sent: ${err.message}`); }
  });

  // An agent's file goes out as a reply (on SMS/WhatsApp as media, by email attached).
  $("#attach").addEventListener("click", () => $("#attach-file").click());
  $("#attach-file").addEventListener("change", async () => {
    const input = $("#attach-file"), file = input.files[0];
    input.value = "";
    if (!file || !current) return;
    const key = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now());
    const caption = reply.value.trim();
    try {
      const res = await fetch(`/v1/conversations/${current}/files?name=${encodeURIComponent(file.name)}${caption ? `&caption=${encodeURIComponent(caption)}` : ""}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "idempotency-key": key, "content-type": file.type || "application/octet-stream" },
        body: file,
      });
      const json = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(json.error ? json.error.message : res.statusText);
      if (caption) reply.value = "";
      render(json.message, "message");
    } catch (err) { event(`File not sent: ${err.message}`); }
  });

  // ------------------------------------------------------------ notifications
  // New conversations, handoffs assigned to me and customer messages in conversations that are
  // mine (or waiting for a human): a browser notification when permitted, a short chime, and
  // the number of conversations with news in the tab title until the agent opens them.
  const known = new Map();
  const pending = new Set();
  const baseTitle = document.title;
  function badge() { document.title = pending.size ? `(${pending.size}) ${baseTitle}` : baseTitle; }
  let audio = null;
  function chime() {
    if (!$("#sound").checked) return;
    try {
      audio = audio || new AudioContext();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880;
      g.gain.value = 0.04;
      o.connect(g).connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.12);
    } catch { /* no audio here */ }
  }
  function notify(id, title, body) {
    if (id === current && !document.hidden) return;
    pending.add(id);
    badge();
    chime();
    if ("Notification" in window && Notification.permission === "granted") {
      const n = new Notification(title, { body, tag: id });
      n.onclick = () => { window.focus(); openConversation(id); n.close(); };
    }
  }
  function onInboxEvent(ev) {
    const d = ev.data || {}, c = known.get(ev.conversation_id);
    const mine = c && me && c.assignee_id === me.id;
    const waiting = ev.status === "pending_human" && !(c && c.assignee_id);
    if (ev.kind === "conversation.created") notify(ev.conversation_id, "New conversation", `${d.customer || "A visitor"} on ${d.channel || "the web"}`);
    else if (ev.kind === "conversation.assigned" && me && d.assignee && d.assignee.id === me.id && !(d.by && d.by.id === me.id)) {
      known.set(ev.conversation_id, { ...(c || {}), assignee_id: me.id });
      notify(ev.conversation_id, "Assigned to you", "A conversation was handed to you.");
    } else if (ev.kind === "conversation.status" && ev.status === "pending_human" && d.summary) {
      // A handoff arrives with the conversation's summary: the notification says what it is about.
      notify(ev.conversation_id, "Needs a person", d.summary);
      if (ev.conversation_id === current) showSummary(current);
    } else if (ev.kind === "message.created" && d.author && d.author.type === "customer" && (mine || waiting || ev.conversation_id === current)) {
      notify(ev.conversation_id, `New message from ${d.author.name || "a customer"}`, d.preview || "");
    }
  }
  $("#sound").checked = localStorage.getItem("prism-sound") !== "off";
  $("#sound").addEventListener("change", () => localStorage.setItem("prism-sound", $("#sound").checked ? "on" : "off"));
  $("#notify").addEventListener("click", async () => {
    await Notification.requestPermission();
    $("#notify").hidden = Notification.permission !== "default";
  });
  function signedInChrome(on) {
    ["#search-form", "#sound-toggle", "#my-lang-label", "#help"].forEach((s) => ($(s).hidden = !on));
    $("#notify").hidden = !on || !("Notification" in window) || Notification.permission !== "default";
    $("#webhooks-open").hidden = !on || !canManage();
    $("#leads-open").hidden = !on;
    $("#dashboard-open").hidden = !on;
    if (on) loadAtRisk();
    $("#surveys-open").hidden = !on;
    $("#quality-open").hidden = !on;
    $("#crm-open").hidden = !on || !canManage();
    if (on && crmReturn && canManage()) openCrm().catch(crmError);
    if (!on) closeResults();
  }

  // ------------------------------------------------------------ customer data (admins)
  // Export downloads the API's document as a file; erasure asks for a second click within a few
  // seconds, then calls until the API says it is complete (large histories take several calls).
  let privacyOf = null;
  const plural = (k, one, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  function showPrivacy(cu) {
    $("#privacy").hidden = !canManage();
    if (privacyOf !== cu.id) $("#privacy-status").textContent = "";
    privacyOf = cu.id;
    disarmErase();
    $("#erase-customer").disabled = !!cu.erased_at;
    if (cu.erased_at && !$("#privacy-status").textContent) $("#privacy-status").textContent = `Erased on ${new Date(cu.erased_at).toLocaleString()}.`;
  }
  function disarmErase() {
    clearTimeout(disarmErase.t);
    const b = $("#erase-customer");
    b.dataset.armed = "";
    b.textContent = "Erase customer";
  }
  $("#export-customer").addEventListener("click", async () => {
    try {
      const id = privacyOf;
      const doc = await api("GET", `/v1/customers/${encodeURIComponent(id)}/export`);
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
      const a = el("a", { href: url, download: `customer-${id}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      $("#privacy-status").textContent = `Exported ${plural(doc.conversations.length, "conversation")}.`;
    } catch (e) { $("#privacy-status").textContent = `Export failed: ${e.message}`; }
  });
  $("#erase-customer").addEventListener("click", async () => {
    const b = $("#erase-customer");
    if (!b.dataset.armed) {
      b.dataset.armed = "1";
      b.textContent = "Click again to erase for good";
      disarmErase.t = setTimeout(disarmErase, 6000);
      return;
    }
    disarmErase();
    b.disabled = true;
    const id = privacyOf;
    try {
      let r, conversations = 0;
      do {
        r = await api("POST", `/v1/customers/${encodeURIComponent(id)}/erase`);
        conversations += r.conversations;
        $("#privacy-status").textContent = `Erasing… ${plural(conversations, "conversation")}`;
      } while (!r.complete);
      const summary = `Erased ${plural(r.customers.length, "identity", "identities")} and ${plural(conversations, "conversation")}.`;
      if (current) await openConversation(current);
      $("#privacy-status").textContent = summary;
      loadList();
    } catch (e) { b.disabled = false; $("#privacy-status").textContent = `Erasure failed: ${e.message}`; }
  });

  // ------------------------------------------------------------ CRM (admins)
  // Connecting leaves for the CRM's consent page; the edge brings the browser back here with
  // #crm=<provider>:connected (or :declined), which opens this dialog with the outcome.
  let crmReturn = null;
  const CRMS = [["hubspot", "HubSpot"], ["salesforce", "Salesforce"]];
  function crmError(e) { $("#crm-status").textContent = e ? e.message : ""; }
  async function openCrm() {
    crmError();
    if (crmReturn) {
      const [provider, outcome] = crmReturn.split(":");
      const name = (CRMS.find(([p]) => p === provider) || [provider, provider])[1];
      $("#crm-status").textContent = outcome === "connected" ? `${name} is connected.` : `${name} was not connected (${outcome || "cancelled"}).`;
      crmReturn = null;
    }
    const items = (await api("GET", "/v1/crm/connections")).items;
    $("#crm-list").replaceChildren(...CRMS.map(([p, name]) => {
      const c = items.find((i) => i.provider === p);
      const li = el("li", { className: "endpoint" }, el("strong", { textContent: name }), " ",
        el("span", { className: "pill", textContent: c ? c.status : "not connected" }));
      if (c && c.last_sync_at) li.append(el("span", { className: "hint", textContent: ` last sync ${new Date(c.last_sync_at).toLocaleString()}` }));
      if (c && c.last_error) li.append(el("span", { className: "hint", textContent: ` — ${c.last_error}` }));
      const button = (label, fn) => { const b = el("button", { type: "button", textContent: label }); b.addEventListener("click", () => fn().catch(crmError)); return b; };
      if (!c || c.status !== "connected") {
        li.append(button(`Connect ${name}`, async () => { location.href = (await api("POST", `/v1/crm/${p}/connect`)).authorize_url; }));
      }
      if (c) {
        li.append(button("Sync all leads", async () => { const r = await api("POST", `/v1/crm/${p}/sync`); $("#crm-status").textContent = `${r.queued} leads queued for ${name}.`; }));
        li.append(button("Disconnect", async () => { await api("DELETE", `/v1/crm/${p}`); await openCrm(); }));
      }
      return li;
    }));
    if (!$("#crm").open) $("#crm").showModal();
  }
  $("#crm-open").addEventListener("click", () => openCrm().catch(crmError));

  // ------------------------------------------------------------ leads
  // Everyone on the team reads leads; agents and above move stages and owners (the API
  // refuses viewers, and their controls are disabled).
  const STAGES = ["new", "qualified", "contacted", "won", "lost"];
  function leadsError(e) { $("#leads-error").textContent = e ? e.message : ""; }
  async function loadLeads() {
    leadsError();
    const q = new URLSearchParams({ limit: "100" });
    if ($("#leads-stage").value) q.set("stage", $("#leads-stage").value);
    const rows = $("#leads-rows");
    try {
      const items = (await api("GET", `/v1/leads?${q}`)).items;
      rows.replaceChildren(...items.map(leadRow));
      if (!items.length) rows.append(el("tr", {}, el("td", { colSpan: 6, textContent: "No leads yet." })));
    } catch (e) { rows.replaceChildren(); leadsError(e); }
  }
  function leadRow(l) {
    const name = l.name || l.email || l.phone || "Unnamed";
    const canWrite = me && me.role !== "viewer";
    const stage = el("select", { ariaLabel: `Stage of ${name}`, disabled: !canWrite },
      ...STAGES.map((s) => el("option", { value: s, textContent: s, selected: s === l.stage })));
    stage.addEventListener("change", () => patchLead(l.id, { stage: stage.value }));
    const owner = el("select", { ariaLabel: `Owner of ${name}`, disabled: !canWrite },
      el("option", { value: "", textContent: "Unassigned" }),
      ...users.map((u) => el("option", { value: u.id, textContent: u.name, selected: u.id === l.owner_id })));
    owner.addEventListener("change", () => patchLead(l.id, { owner_id: owner.value || null }));
    const why = l.score_reasons.map((r) => `${r.rule}: ${r.points > 0 ? "+" : ""}${r.points}`).join("\n");
    const who = el("td", { textContent: `${name}${l.company ? ` (${l.company})` : ""}` });
    const fields = Object.keys(l.proposed || {});
    if (fields.length) {
      // What the AI read in the person's messages: the agent decides.
      const box = el("div", { className: "proposed" }, `AI suggests ${fields.map((f) => `${f}: ${l.proposed[f]}`).join(", ")} `);
      const accept = el("button", { type: "button", textContent: "Accept", disabled: !canWrite });
      accept.addEventListener("click", () => patchLead(l.id, { accept: fields }));
      const reject = el("button", { type: "button", textContent: "Reject", disabled: !canWrite });
      reject.addEventListener("click", () => patchLead(l.id, { reject: fields }));
      box.append(accept, " ", reject);
      who.append(box);
    }
    const tr = el("tr", {},
      who,
      el("td", { textContent: [l.email, l.phone].filter(Boolean).join(" · ") }),
      el("td", {}, el("span", { className: "score", title: why, textContent: String(l.score) })),
      el("td", {}, stage),
      el("td", {}, owner),
      el("td", { textContent: new Date(l.created_at).toLocaleDateString() }));
    tr.dataset.id = l.id;
    return tr;
  }
  async function patchLead(id, body) {
    try { await api("PATCH", `/v1/leads/${id}`, body); } catch (e) { leadsError(e); }
    await loadLeads();
  }
  $("#leads-open").addEventListener("click", async () => { await loadLeads(); $("#leads").showModal(); });
  $("#leads-stage").addEventListener("change", loadLeads);
  $("#leads-export").addEventListener("click", async () => {
    leadsError();
    const q = $("#leads-stage").value ? `?stage=${$("#leads-stage").value}` : "";
    const res = await fetch(`/v1/leads/export${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) { leadsError(new Error(`export failed (${res.status})`)); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: "leads.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });

  // ------------------------------------------------------------ dashboard
  // The analytics API drawn as plain SVG and tables: a bar-and-line trend, two bar charts and a
  // heatmap are a few dozen lines each, and a charting library would be the console's largest
  // file by far (no build step, no third-party script under our CSP).
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v)); if (text != null) e.textContent = text; return e; };
  const ms = (v) => {
    if (v == null) return "—";
    const s = Math.round(v / 1000);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  };
  const num = (v) => (v == null ? "—" : String(v));
  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  function dashboardError(e) { $("#dashboard-error").textContent = e ? e.message : ""; }
  function dashQuery() {
    const q = new URLSearchParams({ from: $("#dash-from").value, to: $("#dash-to").value });
    if ($("#dash-channel").value) q.set("channel", $("#dash-channel").value);
    if ($("#dash-agent").value) q.set("agent_id", $("#dash-agent").value);
    if ($("#dash-skill").value) q.set("skill", $("#dash-skill").value);
    return q;
  }
  function drawTrend(days) {
    const svg = $("#dash-trend"), W = 640, H = 150, pad = 20;
    svg.replaceChildren();
    const most = Math.max(1, ...days.map((d) => Math.max(d.created, d.resolved)));
    const step = (W - 2 * pad) / Math.max(1, days.length);
    const y = (v) => H - pad - ((H - 2 * pad) * v) / most;
    const points = [];
    days.forEach((d, i) => {
      const x = pad + i * step;
      const bar = svgEl("rect", { x, y: y(d.created), width: Math.max(2, step * 0.6), height: H - pad - y(d.created), "data-day": d.day });
      bar.append(svgEl("title", {}, `${d.day}: ${d.created} created, ${d.resolved} resolved`));
      svg.append(bar);
      points.push(`${x + step * 0.3},${y(d.resolved)}`);
      if (i === 0) svg.append(svgEl("text", { x, y: H - 4 }, d.day));
      if (i === days.length - 1 && i > 0) svg.append(svgEl("text", { x: x + step * 0.6, y: H - 4, "text-anchor": "end" }, d.day));
    });
    if (points.length > 1) svg.append(svgEl("polyline", { points: points.join(" "), class: "resolved" }));
    svg.append(svgEl("text", { x: 2, y: 12 }, String(most)));
    svg.setAttribute("aria-label", `${days.length} days: ${days.reduce((a, d) => a + d.created, 0)} conversations created`);
  }
  function drawSentiment(days) {
    const svg = $("#dash-sentiment"), W = 640, H = 90, pad = 10;
    svg.replaceChildren(svgEl("line", { x1: pad, x2: W - pad, y1: H / 2, y2: H / 2, stroke: "#d1d5db" }));
    const step = (W - 2 * pad) / Math.max(1, days.length);
    const pts = days.map((d, i) => (d.sentiment == null ? null : `${pad + i * step + step * 0.3},${H / 2 - ((H / 2 - pad) * d.sentiment)}`)).filter(Boolean);
    if (pts.length > 1) svg.append(svgEl("polyline", { points: pts.join(" "), class: "resolved" }));
    const known = days.filter((d) => d.sentiment != null);
    svg.setAttribute("aria-label", known.length ? `sentiment from ${known[0].sentiment} to ${known[known.length - 1].sentiment}` : "no sentiment yet");
  }
  function drawBars(svg, rows) {
    svg.replaceChildren();
    const W = Number(svg.getAttribute("width")), H = 150, most = Math.max(1, ...rows.map((r) => r.n));
    const step = (H - 10) / Math.max(1, rows.length);
    rows.forEach((r, i) => {
      const w = ((W - 170) * r.n) / most, yy = 5 + i * step;
      svg.append(svgEl("text", { x: 0, y: yy + step * 0.6, class: "bar-label" }, r.key));
      const bar = svgEl("rect", { x: 130, y: yy, width: Math.max(1, w), height: Math.max(2, step * 0.7), "data-key": r.key, "data-n": r.n });
      bar.append(svgEl("title", {}, `${r.key}: ${r.n}`));
      svg.append(bar, svgEl("text", { x: 134 + w, y: yy + step * 0.6, class: "bar-label" }, String(r.n)));
    });
    svg.setAttribute("aria-label", rows.map((r) => `${r.key} ${r.n}`).join(", ") || "nothing yet");
  }
  function drawHeatmap(grid) {
    const t = $("#dash-heatmap"), most = Math.max(1, ...grid.flat());
    const head = el("tr", {}, el("td", {}), ...Array.from({ length: 24 }, (_, h) => el("th", { scope: "col", textContent: String(h) })));
    const rows = grid.map((hours, d) => el("tr", {}, el("th", { scope: "row", textContent: WEEKDAYS[d] }), ...hours.map((n, h) => {
      const a = n / most;
      const c = el("td", { textContent: n ? String(n) : "", title: `${WEEKDAYS[d]} ${h}:00 — ${n} messages` });
      c.style.background = n ? `rgba(79, 70, 229, ${0.12 + 0.88 * a})` : "#f3f4f6";
      if (a > 0.5) c.className = "dark";
      return c;
    })));
    t.replaceChildren(t.querySelector("caption"), el("thead", {}, head), el("tbody", {}, ...rows));
  }
  function goalText(a) {
    if (!a.goals.length) return "—";
    return `${a.goals.filter((g) => g.met).length}/${a.goals.length}`;
  }
  async function loadDashboard() {
    dashboardError();
    try {
      const q = dashQuery();
      const [o, lb, sla, live] = await Promise.all([
        api("GET", `/v1/analytics/overview?${q}`), api("GET", `/v1/analytics/agents?${q}`),
        api("GET", `/v1/analytics/sla?${q}`), api("GET", "/v1/analytics/agents/live"),
      ]);
      const sp = o.speed;
      const tiles = [
        ["Created", o.volume.created], ["Resolved", o.volume.resolved], ["Waiting now", o.volume.pending_human_now],
        ["Containment", pct(o.ai.containment_percent)], ["Handoff rate", pct(o.ai.handoff_percent)],
        ["First response (median)", ms(sp.first_response.median_ms)], ["First response (p90)", ms(sp.first_response.p90_ms)],
        ["First human reply (median)", ms(sp.first_human_response.median_ms)], ["Resolution (median)", ms(sp.resolution.median_ms)],
        ["Handle time (median)", ms(sp.handle.median_ms)], ["AI answers cited", `${o.ai.cited}/${o.ai.answers}`],
        ["AI thumbs up", pct(o.ai.ratings.ai_positive_percent)], ["Sentiment", num(o.quality.sentiment)],
        ["CSAT", num(o.quality.csat)], ["NPS", num(o.quality.nps)], ["AI cost (USD)", o.ai.cost_usd.toFixed(2)],
      ];
      $("#dash-tiles").replaceChildren(...tiles.map(([k, v]) => el("div", {}, el("dt", { textContent: k }), el("dd", { textContent: String(v) }))));
      drawTrend(o.by_day);
      drawSentiment(o.by_day);
      drawBars($("#dash-channels"), o.volume.by_channel.map((c) => ({ key: c.channel, n: c.created })));
      drawBars($("#dash-reasons"), o.ai.handoff_reasons);
      drawHeatmap(o.busiest_hours);
      const nameOf = (id) => (users.find((u) => u.id === id) || {}).name || id;
      const withAgent = (tr, id) => { tr.dataset.agent = id; return tr; };
      $("#dash-agents").replaceChildren(...lb.agents.map((a) => withAgent(el("tr", {},
        el("td", { textContent: a.name || nameOf(a.agent_id) }), el("td", { textContent: String(a.assigned) }), el("td", { textContent: String(a.resolved) }),
        el("td", { textContent: pct(a.resolution_percent) }), el("td", { textContent: ms(a.first_response.median_ms) }), el("td", { textContent: ms(a.handle.median_ms) }),
        el("td", { textContent: a.rating_up + a.rating_down ? `${a.rating_up}👍 ${a.rating_down}👎` : "—" }), el("td", { textContent: num(a.csat) }),
        el("td", { textContent: a.online_ms ? ms(a.online_ms) : "—" }),
        el("td", { textContent: goalText(a), title: a.goals.map((g) => `${g.metric}: ${g.value ?? "—"} / ${g.target} (${g.progress_percent}%)`).join("\n") })), a.agent_id)));
      $("#dash-live").replaceChildren(...live.agents.map((a) => el("li", {}, el("span", { className: `pill${a.status === "online" ? " on" : a.status === "busy" ? " warn" : ""}`, textContent: a.status }), ` ${a.name} ${a.load}/${a.capacity}`)),
        el("li", { textContent: `Unassigned and waiting: ${live.unassigned_waiting}` }));
      $("#dash-sla").replaceChildren(...(sla.policies.length ? [
        ["First response within target", pct(sla.first_response.met_percent)], ["First response breaches", sla.first_response.breached],
        ["Resolution within target", pct(sla.resolution.met_percent)], ["Resolution breaches", sla.resolution.breached],
      ] : [["SLA", "no policies (tenant config sla.policies)"]]).map(([k, v]) => el("div", {}, el("dt", { textContent: k }), el("dd", { textContent: String(v) }))));
      $("#dash-risk").replaceChildren(...sla.at_risk.map((r) => riskItem(r, () => $("#dashboard").close())));
      $("#dash-models").replaceChildren(...o.ai.by_model.map((m) => el("tr", {}, ...[m.provider, m.model, m.answers, m.tokens_in, m.tokens_out, m.cost_usd == null ? "—" : m.cost_usd.toFixed(2)].map((v) => el("td", { textContent: String(v) })))));
      $("#dash-intents").replaceChildren(...o.quality.top_intents.map((i) => el("tr", {}, ...[i.intent, i.messages, i.negative, num(i.average_sentiment)].map((v) => el("td", { textContent: String(v) })))));
    } catch (e) { dashboardError(e); }
  }
  function riskItem(r, before) {
    const b = el("button", { type: "button", className: `link${r.breached ? " breached" : ""}`, textContent: `${r.subject || r.conversation_id} · ${r.priority} · ${r.clock.replace("_", " ")} ${r.breached ? "breached" : `due ${new Date(r.due_at).toLocaleTimeString()}`}` });
    b.dataset.id = r.conversation_id;
    b.addEventListener("click", () => { if (before) before(); openConversation(r.conversation_id); });
    return el("li", {}, b);
  }
  /** The inbox's SLA list: conversations near or past a target, refreshed every minute; the
   * open conversation's pill says when it is one of them. */
  let atRisk = [];
  function showSla(id) {
    const r = atRisk.find((x) => x.conversation_id === id), pill = $("#conv-sla");
    pill.hidden = !r;
    if (r) pill.textContent = `SLA ${r.clock.replace("_", " ")} ${r.breached ? "breached" : `due ${new Date(r.due_at).toLocaleTimeString()}`}`;
  }
  async function loadAtRisk() {
    try {
      const r = await api("GET", "/v1/analytics/sla?days=1");
      atRisk = r.at_risk;
      if (current) showSla(current);
      $("#at-risk").hidden = !r.at_risk.length;
      $("#at-risk-count").textContent = String(r.at_risk.length);
      $("#at-risk-list").replaceChildren(...r.at_risk.map((x) => riskItem(x)));
    } catch { $("#at-risk").hidden = true; }
  }
  setInterval(() => { if (token) loadAtRisk(); }, 60000);
  $("#dashboard-open").addEventListener("click", async () => {
    if (!$("#dash-to").value) {
      const today = new Date(), from = new Date(today.getTime() - 29 * 86400000);
      const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
      $("#dash-from").value = day(from);
      $("#dash-to").value = day(today);
    }
    const keep = (sel) => $(sel).value;
    const [agent, skill] = [keep("#dash-agent"), keep("#dash-skill")];
    $("#dash-agent").replaceChildren(el("option", { value: "", textContent: "Everyone" }), ...users.map((u) => el("option", { value: u.id, textContent: u.name })));
    const skills = [...new Set(users.flatMap((u) => u.skills || []))].sort();
    $("#dash-skill").replaceChildren(el("option", { value: "", textContent: "All skills" }), ...skills.map((k) => el("option", { value: k, textContent: k })));
    $("#dash-agent").value = agent;
    $("#dash-skill").value = skill;
    await loadDashboard();
    $("#dashboard").showModal();
  });
  $("#dashboard-filters").addEventListener("submit", (e) => { e.preventDefault(); loadDashboard(); });
  $("#dash-export").addEventListener("click", async () => {
    dashboardError();
    const q = dashQuery();
    q.set("report", $("#dash-report").value);
    const res = await fetch(`/v1/analytics/export?${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) { dashboardError(new Error(`export failed (${res.status})`)); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: `${q.get("report")}-${q.get("from")}-${q.get("to")}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });

  // ------------------------------------------------------------ surveys
  // Results by channel, agent and day, drawn as plain SVG (a bar per day for answers and a line
  // for the average score: two series do not justify a charting library in a no-build console).
  const scoreText = (g) => (g.scores || []).map((s) => s.kind === "nps" ? `NPS ${s.nps}` : `${s.kind.toUpperCase()} ${s.average}`).join(" · ") || "—";
  const pct = (v) => (v == null ? "—" : `${v}%`);
  function surveysError(e) { $("#surveys-error").textContent = e ? e.message : ""; }
  function groupRow(g, name) {
    return el("tr", {}, el("td", { textContent: name }), el("td", { textContent: String(g.sent) }), el("td", { textContent: String(g.responded) }),
      el("td", { textContent: pct(g.response_rate) }), el("td", { textContent: scoreText(g) }));
  }
  function drawDays(days) {
    const svg = $("#surveys-chart"), W = 640, H = 140, pad = 20, ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    const most = Math.max(1, ...days.map((d) => d.responded));
    const step = (W - 2 * pad) / Math.max(1, days.length);
    const points = [];
    days.forEach((d, i) => {
      const h = ((H - 2 * pad) * d.responded) / most, x = pad + i * step;
      const bar = document.createElementNS(ns, "rect");
      Object.entries({ x, y: H - pad - h, width: Math.max(2, step * 0.6), height: h }).forEach(([k, v]) => bar.setAttribute(k, v));
      const tip = document.createElementNS(ns, "title");
      tip.textContent = `${d.key}: ${d.responded} answered · ${scoreText(d)}`;
      bar.append(tip);
      svg.append(bar);
      const s = (d.scores || [])[0];
      if (s && s.average != null) {
        const top = s.kind === "nps" ? 10 : s.kind === "ces" ? 7 : 5;
        points.push(`${x + step * 0.3},${H - pad - ((H - 2 * pad) * s.average) / top}`);
      }
      if (i === 0 || i === days.length - 1) {
        const label = document.createElementNS(ns, "text");
        Object.entries({ x, y: H - 4 }).forEach(([k, v]) => label.setAttribute(k, v));
        label.textContent = d.key;
        svg.append(label);
      }
    });
    if (points.length > 1) {
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", points.join(" "));
      svg.append(line);
    }
    svg.setAttribute("aria-label", `${days.length} days of survey answers`);
  }
  async function loadSurveys() {
    surveysError();
    try {
      const r = await api("GET", `/v1/surveys/results?days=${$("#surveys-days").value}`);
      const tiles = [["Sent", r.sent], ["Answered", r.responded], ["Response rate", pct(r.response_rate)]];
      for (const s of r.scores) {
        if (s.kind === "nps") tiles.push(["NPS", s.nps]);
        else tiles.push([s.kind.toUpperCase(), s.average], [`${s.kind.toUpperCase()} positive`, pct(s.positive_percent)]);
      }
      $("#surveys-summary").replaceChildren(...tiles.map(([k, v]) => el("div", {}, el("dt", { textContent: k }), el("dd", { textContent: String(v) }))));
      const nameOf = (id) => (users.find((u) => u.id === id) || {}).name || id;
      $("#surveys-channels").replaceChildren(...r.by_channel.map((g) => groupRow(g, g.key)));
      $("#surveys-agents").replaceChildren(...r.by_agent.map((g) => groupRow(g, nameOf(g.key))));
      drawDays(r.by_day);
      const list = (await api("GET", "/v1/surveys/responses?limit=100")).items.filter((s) => s.comment).reverse().slice(0, 20);
      $("#surveys-comments").replaceChildren(...(list.length ? list.map((s) => {
        const b = el("button", { type: "button", className: "link", textContent: `${s.kind ? `${s.kind.toUpperCase()} ${s.score}` : ""} — “${s.comment}”` });
        b.addEventListener("click", () => { $("#surveys").close(); openConversation(s.conversation_id); });
        return el("li", {}, b);
      }) : [el("li", { textContent: "No comments yet." })]));
    } catch (e) { surveysError(e); }
  }
  $("#surveys-open").addEventListener("click", async () => { await loadSurveys(); $("#surveys").showModal(); });
  $("#surveys-days").addEventListener("change", loadSurveys);
  $("#surveys-export").addEventListener("click", async () => {
    surveysError();
    const res = await fetch("/v1/surveys/responses/export", { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) { surveysError(new Error(`export failed (${res.status})`)); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: "survey-responses.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
  // ------------------------------------------------------------ summary
  // At the top of the conversation: the model's, the extractive one, or VAPI's call summary.
  const SUMMARY_LABELS = { ai: "AI summary", extractive: "Summary (key sentences)", voice: "Call summary" };
  function renderSummary(s) {
    $("#conv-summary").hidden = false;
    $("#conv-summary-label").textContent = s ? SUMMARY_LABELS[s.source] || "Summary" : "No summary yet";
    $("#conv-summary-text").textContent = s ? s.text : "";
    $("#conv-summary-text").title = s && s.model ? `${s.model}, ${new Date(s.updated_at).toLocaleString()}` : "";
  }
  async function showSummary(id) {
    try {
      const s = await api("GET", `/v1/conversations/${encodeURIComponent(id)}/summary`);
      if (current === id) renderSummary(s);
    } catch { if (current === id) renderSummary(null); }
  }
  $("#summarise").addEventListener("click", async () => {
    const id = current;
    $("#summarise").disabled = true;
    try { const s = await api("POST", `/v1/conversations/${encodeURIComponent(id)}/summary`); if (current === id) renderSummary(s); }
    catch (e) { $("#conv-summary-text").textContent = e.message; }
    finally { $("#summarise").disabled = false; }
  });

  // ------------------------------------------------------------ quality reviews
  // Reviewers (and admins, owners) score the open conversation against a scorecard, ask the AI
  // reviewer, and see how far reviewers are apart; everyone sees the reviews of their own
  // conversations in the Quality dialog and acknowledges or disputes them there.
  const canReview = () => me && ["reviewer", "admin", "owner"].includes(me.role);
  const nameOf = (id) => (users.find((u) => u.id === id) || {}).name || id || "the assistant";
  const reviewerLabel = (r) => (r.reviewer_type === "person" ? nameOf(r.reviewer_id) : r.reviewer_type === "ai" ? `AI (${r.model})` : "Heuristic (no AI provider)");
  let scorecards = null;
  async function showReviews(id) {
    $("#review-status").textContent = "";
    try {
      const r = await api("GET", `/v1/conversations/${encodeURIComponent(id)}/reviews`);
      if (current !== id) return;
      $("#reviews").replaceChildren(...(r.items.length ? r.items.map((v) => el("li", { textContent: `${reviewerLabel(v)}: ${v.score ?? "—"}${v.status !== "submitted" ? ` (${v.status})` : ""}${v.comment ? ` — ${v.comment}` : ""}`, title: v.answers.map((a) => `${a.criterion}: ${a.value}${a.note ? ` — ${a.note}` : ""}`).join("\n") })) : [el("li", { textContent: "Not reviewed yet." })]));
      $("#calibration").textContent = r.calibration.filter((c) => c.reviews > 1).map((c) => `${c.reviews} reviews of ${c.scorecard_id}: ${c.min}–${c.max} (spread ${c.spread}); agreement ${c.criteria.map((x) => `${x.criterion} ${x.agreement}%`).join(", ")}`).join(" ");
    } catch { $("#reviews").replaceChildren(); }
    $("#review-form").hidden = !canReview();
    if (canReview()) await reviewForm();
  }
  async function reviewForm() {
    scorecards = scorecards || (await api("GET", "/v1/reviews/scorecards")).items;
    const select = $("#review-card");
    if (!select.options.length) {
      select.replaceChildren(...scorecards.map((s) => el("option", { value: s.id, textContent: s.name })));
      select.addEventListener("change", renderCriteria);
    }
    renderCriteria();
  }
  function renderCriteria() {
    const card = scorecards.find((s) => s.id === $("#review-card").value) || scorecards[0];
    $("#review-criteria").replaceChildren(...card.criteria.map((c) => {
      const options = c.kind === "yes_no" ? ["yes", "no"] : Array.from({ length: c.max || 5 }, (_, i) => String(i + 1));
      if (c.allow_na) options.push("na");
      const select = el("select", { name: c.id, id: `crit-${c.id}`, required: true }, el("option", { value: "", textContent: "—" }), ...options.map((o) => el("option", { value: o, textContent: o === "na" ? "N/A" : o })));
      return el("div", { className: "criterion", title: c.guidance }, el("label", { htmlFor: `crit-${c.id}`, textContent: `${c.label} (${c.weight})` }), select);
    }));
  }
  $("#review-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = current;
    const answers = [...$("#review-criteria").querySelectorAll("select")].map((s) => ({ criterion: s.name, value: /^\d+$/.test(s.value) ? Number(s.value) : s.value }));
    try {
      const r = await api("POST", `/v1/conversations/${encodeURIComponent(id)}/reviews`, { scorecard_id: $("#review-card").value, answers, comment: $("#review-comment").value || undefined });
      await showReviews(id);
      $("#review-status").textContent = `Saved: ${r.score ?? "—"}.`;
    } catch (x) { $("#review-status").textContent = x.message; }
  });
  $("#review-ai").addEventListener("click", async () => {
    const id = current;
    $("#review-ai").disabled = true;
    try {
      const r = await api("POST", `/v1/conversations/${encodeURIComponent(id)}/reviews/ai`, { scorecard_id: $("#review-card").value });
      await showReviews(id);
      $("#review-status").textContent = `${reviewerLabel(r)}: ${r.score ?? "—"}.`;
    } catch (x) { $("#review-status").textContent = x.message; } finally { $("#review-ai").disabled = false; }
  });
  function qualityError(e) { $("#quality-error").textContent = e ? e.message : ""; }
  const openFrom = (dialog, id) => el("button", { type: "button", className: "link", textContent: id, onclick: () => { $(dialog).close(); openConversation(id); } });
  async function loadQuality() {
    qualityError();
    try {
      $("#queue-section").hidden = !canReview();
      if (canReview()) {
        const q = (await api("GET", "/v1/reviews/queue")).items;
        $("#queue-rows").replaceChildren(...(q.length ? q.map((i) => el("tr", {}, el("td", {}, openFrom("#quality", i.conversation_id)), el("td", { textContent: i.reasons.join(", ") }),
          el("td", { textContent: i.survey_kind ? `${i.survey_kind.toUpperCase()} ${i.survey_score}` : "—" }), el("td", { textContent: i.ai_score ?? "—" }), el("td", { textContent: new Date(i.resolved_at).toLocaleDateString() }))) : [el("tr", {}, el("td", { colSpan: 5, textContent: "Nothing to review." }))]));
      }
      $("#reviews-heading").textContent = canReview() ? "Reviews" : "Reviews of my conversations";
      const rs = (await api("GET", "/v1/reviews?limit=100")).items.reverse();
      $("#review-rows").replaceChildren(...(rs.length ? rs.map(reviewRow) : [el("tr", {}, el("td", { colSpan: 6, textContent: "No reviews yet." }))]));
    } catch (e) { qualityError(e); }
  }
  function reviewRow(r) {
    const mine = me && r.agent_id === me.id;
    const answer = el("td", { textContent: r.agent_response || "" });
    if (mine && r.status === "submitted") {
      const ack = el("button", { type: "button", textContent: "Acknowledge" });
      ack.addEventListener("click", () => answerReview(r.id, { status: "acknowledged" }));
      const dispute = el("button", { type: "button", textContent: "Dispute" });
      dispute.addEventListener("click", () => {
        const why = el("input", { type: "text", maxLength: 2000, ariaLabel: "What do you dispute?" });
        const send = el("button", { type: "button", textContent: "Send dispute" });
        send.addEventListener("click", () => answerReview(r.id, { status: "disputed", response: why.value }));
        answer.replaceChildren(why, send);
        why.focus();
      });
      answer.append(ack, " ", dispute);
    }
    const tr = el("tr", {}, el("td", {}, openFrom("#quality", r.conversation_id)), el("td", { textContent: nameOf(r.agent_id) }), el("td", { textContent: reviewerLabel(r) }),
      el("td", { textContent: r.score ?? "—" }), el("td", { textContent: r.status }), answer);
    tr.dataset.id = r.id;
    return tr;
  }
  async function answerReview(id, body) {
    try { await api("PATCH", `/v1/reviews/${id}`, body); } catch (e) { qualityError(e); return; }
    await loadQuality();
  }
  $("#quality-open").addEventListener("click", async () => { await loadQuality(); $("#quality").showModal(); });

  // The open conversation's survey answer, beside its status.
  async function showSurvey(id) {
    const pill = $("#conv-survey");
    pill.hidden = true;
    try {
      const s = (await api("GET", `/v1/surveys/responses?conversation_id=${encodeURIComponent(id)}`)).items[0];
      if (!s || current !== id) return;
      pill.textContent = `${s.kind ? `${s.kind.toUpperCase()} ${s.score}` : "Survey answered"}${s.comment ? ` — “${s.comment}”` : ""}`;
      pill.title = `Answered ${new Date(s.responded_at).toLocaleString()} via ${s.response_source}`;
      pill.hidden = false;
    } catch { /* surveys off for the workspace */ }
  }

  // ------------------------------------------------------------ webhooks (admins)
  // Endpoints, their signing secret (shown once), the delivery log and replay. Admins and owners
  // only: the API refuses others, and the button is hidden for them.
  const canManage = () => me && (me.role === "admin" || me.role === "owner");
  let deliveriesOf = null;
  function webhookError(e) { $("#webhooks-error").textContent = e ? e.message : ""; }
  async function openWebhooks() {
    webhookError();
    $("#endpoint-secret").hidden = true;
    $("#deliveries-panel").hidden = true;
    deliveriesOf = null;
    const box = $("#endpoint-events");
    if (!box.querySelector("input")) {
      const types = (await api("GET", "/v1/webhooks/event-types")).items;
      types.forEach((t) => {
        const id = `ev-${t.type.replace(/\W/g, "-")}`;
        box.append(el("label", { htmlFor: id, title: t.description }, el("input", { type: "checkbox", id, value: t.type }), ` ${t.type}`));
      });
    }
    await loadEndpoints();
    $("#webhooks").showModal();
  }
  async function loadEndpoints() {
    const list = $("#endpoints");
    try {
      const items = (await api("GET", "/v1/webhooks/endpoints?limit=100")).items;
      list.replaceChildren(...items.map(endpointItem));
      if (!items.length) list.append(el("li", { textContent: "No endpoints yet." }));
    } catch (e) { webhookError(e); }
  }
  function endpointItem(e) {
    const li = el("li", { className: "endpoint" });
    li.dataset.id = e.id;
    const status = el("span", { className: `pill ${e.status}`, textContent: e.status });
    const act = (label, fn) => el("button", { type: "button", textContent: label, onclick: async () => { webhookError(); try { await fn(); } catch (err) { webhookError(err); } } });
    li.append(
      el("code", { className: "url", textContent: e.url }), " ", status,
      el("div", { className: "meta", textContent: `${e.events.join(", ")}${e.disabled_reason ? ` — ${e.disabled_reason}` : ""}` }),
      act("Deliveries", () => showDeliveries(e)),
      act(e.status === "active" ? "Disable" : "Enable", async () => { await api("PATCH", `/v1/webhooks/endpoints/${e.id}`, { enabled: e.status !== "active" }); await loadEndpoints(); }),
      act("Rotate secret", async () => { const r = await api("POST", `/v1/webhooks/endpoints/${e.id}/rotate-secret`); showSecret(r.secret); await loadEndpoints(); }),
      act("Delete", async () => { if (!confirm(`Delete the endpoint ${e.url} and its delivery log?`)) return; await api("DELETE", `/v1/webhooks/endpoints/${e.id}`); $("#deliveries-panel").hidden = true; await loadEndpoints(); }),
    );
    return li;
  }
  function showSecret(secret) {
    $("#endpoint-secret-value").textContent = secret;
    $("#endpoint-secret").hidden = false;
  }
  async function showDeliveries(e) {
    deliveriesOf = e;
    $("#deliveries-title").textContent = `Deliveries to ${e.url}`;
    const items = (await api("GET", `/v1/webhooks/endpoints/${e.id}/deliveries?limit=100`)).items.reverse();
    const rows = items.map((d) => {
      const replay = el("button", { type: "button", textContent: "Replay", disabled: !["delivered", "failed"].includes(d.status) });
      replay.onclick = async () => { webhookError(); try { await api("POST", `/v1/webhooks/deliveries/${d.id}/replay`); await showDeliveries(e); } catch (err) { webhookError(err); } };
      const tr = el("tr", {}, el("td", { textContent: d.event_type }), el("td", { textContent: d.status }), el("td", { textContent: String(d.attempts) }), el("td", { textContent: d.last_error || "" }), el("td", {}, replay));
      tr.dataset.id = d.id;
      return tr;
    });
    $("#deliveries").replaceChildren(...rows);
    if (!rows.length) $("#deliveries").append(el("tr", {}, el("td", { colSpan: 5, textContent: "Nothing sent yet." })));
    $("#deliveries-panel").hidden = false;
  }
  $("#webhooks-open").addEventListener("click", () => openWebhooks().catch(webhookError));
  $("#endpoint-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    webhookError();
    const events = [...$("#endpoint-events").querySelectorAll("input:checked")].map((i) => i.value);
    try {
      const r = await api("POST", "/v1/webhooks/endpoints", { url: $("#endpoint-url").value.trim(), events: events.length ? events : ["*"] });
      showSecret(r.secret);
      $("#endpoint-url").value = "";
      await loadEndpoints();
    } catch (e) { webhookError(e); }
  });

  // ------------------------------------------------------------ search
  /** The snippet with the matched words as <mark> elements (the server marks them with U+0002
   * and U+0003, so no HTML is ever parsed). */
  function marked(snippet) {
    const span = el("span", { className: "preview" });
    snippet.split("\u0002").forEach((part, i) => {
      if (i === 0) { span.append(part); return; }
      const [hit, ...rest] = part.split("\u0003");
      span.append(el("mark", { textContent: hit }), rest.join(""));
    });
    return span;
  }
  function closeResults() { $("#results").hidden = true; $("#list").hidden = false; }
  async function runSearch(q) {
    if (!q.trim()) { closeResults(); return; }
    let r;
    try { r = await api("GET", `/v1/search?q=${encodeURIComponent(q)}`); } catch (e) { $("#results-title").textContent = e.message; return; }
    if ($("#search").value !== q) return;
    const n = (k, w) => `${k} ${w}${k === 1 ? "" : "s"}`;
    $("#list").hidden = true;
    $("#results").hidden = false;
    $("#results-title").textContent = `${n(r.messages.length, "message")} and ${n(r.customers.length, "customer")} for “${q}”`;
    $("#result-customers").replaceChildren(...r.customers.map((c) => {
      const b = el("button", { type: "button" },
        el("span", { className: "name", textContent: c.name || c.email || c.phone || c.external_id }),
        el("span", { className: "preview", textContent: [c.kind, c.email, c.phone].filter(Boolean).join(" · ") }));
      b.addEventListener("click", async () => {
        const p = await api("GET", `/v1/customers/${encodeURIComponent(c.id)}`);
        if (p.conversations.length) openConversation(p.conversations[0].id);
      });
      return el("li", {}, b);
    }));
    $("#result-messages").replaceChildren(...r.messages.map((m) => {
      const b = el("button", { type: "button" },
        el("span", { className: "name", textContent: `${m.customer_name || "Visitor"} · ${m.channel} · ${new Date(m.created_at).toLocaleDateString()}` }),
        marked(m.snippet));
      b.addEventListener("click", () => openConversation(m.conversation_id, m.seq));
      return el("li", {}, b);
    }));
  }
  let searchTimer = null;
  $("#search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => runSearch($("#search").value), 250); });
  $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(searchTimer); runSearch($("#search").value); });
  $("#close-results").addEventListener("click", () => { $("#search").value = ""; closeResults(); });

  // ------------------------------------------------------------ translation
  // The agent reads customers in their own language and may reply in the customer's; the
  // tenant's AI provider translates (the console shows the server's message when there is none).
  let convLang = null;
  let myLang = localStorage.getItem("prism-agent-lang") || (navigator.language || "en").split("-")[0].toLowerCase();
  if (![...$("#my-lang").options].some((o) => o.value === myLang)) $("#my-lang").append(el("option", { value: myLang, textContent: myLang }));
  $("#my-lang").value = myLang;
  $("#my-lang").addEventListener("change", () => { myLang = $("#my-lang").value; localStorage.setItem("prism-agent-lang", myLang); showTranslateReply(); });
  const primary = (l) => (l || "").split("-")[0].toLowerCase();
  function showTranslateReply() {
    const show = !!convLang && primary(convLang) !== primary(myLang);
    if (show && $("#translate-reply-label").hidden) $("#translate-reply").checked = true;
    $("#translate-reply-label").hidden = !show;
    $("#customer-lang").textContent = convLang || "";
  }
  const wantsTranslation = () => !$("#translate-reply-label").hidden && $("#translate-reply").checked;
  async function translateMessage(box, text) {
    const id = current;
    try {
      const t = await api("POST", `/v1/conversations/${id}/translate`, { text, to: myLang });
      if (id !== current) return;
      box.querySelector(".translation")?.remove();
      box.append(el("span", { className: "translation", lang: myLang, textContent: `${t.text} — translated from ${t.source_language || "?"} by ${t.provider}` }));
      if (!convLang && t.source_language && primary(t.source_language) !== primary(myLang)) { convLang = t.source_language; showTranslateReply(); }
    } catch (e) { event(`Translation: ${e.message}`); }
  }

  // ------------------------------------------------------------ keyboard
  function setMode(mode) { document.querySelector(`input[name=mode][value=${mode}]`).checked = true; }
  function step(d) {
    const items = [...document.querySelectorAll("#list button")];
    if (!items.length) return;
    const i = items.findIndex((b) => b.dataset.id === current);
    const next = i === -1 ? items[0] : items[Math.max(0, Math.min(items.length - 1, i + d))];
    next.focus();
    if (next.dataset.id !== current) openConversation(next.dataset.id);
  }
  $("#help").addEventListener("click", () => $("#shortcuts").showModal());
  document.addEventListener("keydown", (e) => {
    if ($("#app").hidden || e.ctrlKey || e.metaKey || e.altKey || $("#shortcuts").open) return;
    const typing = e.target.closest && e.target.closest("input, textarea, select, [contenteditable]");
    if (e.key === "Escape") { if (typing) e.target.blur(); return; }
    if (typing) return;
    const click = (s) => { if (!$(s).disabled) $(s).click(); };
    switch (e.key) {
      case "/": e.preventDefault(); $("#search").focus(); break;
      case "j": step(1); break;
      case "k": step(-1); break;
      case "r": case "n":
        if ($("#reply").disabled) break;
        e.preventDefault();
        setMode(e.key === "n" ? "note" : "reply");
        $("#reply").focus();
        break;
      case "t": click("#take-over"); break;
      case "e": click("#resolve"); break;
      case "?": $("#shortcuts").showModal(); break;
      default: return;
    }
  });

  // ------------------------------------------------------------ start
  start();
  // A link opened in the tab that already shows the console changes only the fragment: no
  // page load, so the sign-in or invitation in it is picked up here.
  window.addEventListener("hashchange", () => { if (location.hash.length > 1) start(); });
})();
