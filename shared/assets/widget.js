/* PrismAI Edge chat widget. One script, no framework, no external requests but to its own origin.
 *   <script src="https://YOUR-EDGE/widget.js" data-key="pk_…" async></script>
 * Optional: data-user-id + data-user-hash (verified customer), data-name, data-email,
 * data-color, data-greeting, data-position (right|left), data-lang (en es fr de pt ja ar he;
 * else the browser's language), data-title. Answers render a safe Markdown subset as DOM nodes.
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
  // Strings per language (data-lang, else the browser's language, else English).
  const T = {
    en: { open: "Open chat", close: "Close chat", title: "Chat with us", placeholder: "Type your message…", send: "Send",
          connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "You are offline — messages will be sent when you reconnect.",
          human: "Connecting you with a person…", agent: (n) => `${n} joined the conversation`, left: (n) => `${n} left`,
          typing: "typing…", seen: "Seen", sources: "Sources", resolved: "This conversation was resolved.", closed: "This conversation is closed.",
          you: "You", assistant: "Assistant", talk: "Talk to a person", greeting: "Hi! How can we help?", failed: "Not sent — retrying",
          messages: "Messages", good: "Helpful", bad: "Not helpful", why: "What could be better? (optional)", thanks: "Thanks for your feedback!",
          unavailable: "Chat is not available on this site." },
    es: { open: "Abrir chat", close: "Cerrar chat", title: "Chatea con nosotros", placeholder: "Escribe tu mensaje…", send: "Enviar",
          connecting: "Conectando…", reconnecting: "Reconectando…", offline: "Sin conexión: los mensajes se enviarán al reconectar.",
          human: "Te estamos pasando con una persona…", agent: (n) => `${n} se unió a la conversación`, left: (n) => `${n} salió`,
          typing: "escribiendo…", seen: "Visto", sources: "Fuentes", resolved: "Esta conversación se resolvió.", closed: "Esta conversación está cerrada.",
          you: "Tú", assistant: "Asistente", talk: "Hablar con una persona", greeting: "¡Hola! ¿En qué podemos ayudarte?", failed: "No enviado: reintentando",
          messages: "Mensajes", good: "Útil", bad: "No útil", why: "¿Qué podríamos mejorar? (opcional)", thanks: "¡Gracias por tu opinión!",
          unavailable: "El chat no está disponible en este sitio." },
    fr: { open: "Ouvrir le chat", close: "Fermer le chat", title: "Discutez avec nous", placeholder: "Écrivez votre message…", send: "Envoyer",
          connecting: "Connexion…", reconnecting: "Reconnexion…", offline: "Hors ligne : les messages partiront à la reconnexion.",
          human: "Nous vous mettons en relation avec une personne…", agent: (n) => `${n} a rejoint la conversation`, left: (n) => `${n} est parti(e)`,
          typing: "écrit…", seen: "Vu", sources: "Sources", resolved: "Cette conversation est résolue.", closed: "Cette conversation est fermée.",
          you: "Vous", assistant: "Assistant", talk: "Parler à une personne", greeting: "Bonjour ! Comment pouvons-nous vous aider ?", failed: "Non envoyé — nouvel essai",
          messages: "Messages", good: "Utile", bad: "Pas utile", why: "Que pourrions-nous améliorer ? (facultatif)", thanks: "Merci pour votre avis !",
          unavailable: "Le chat n’est pas disponible sur ce site." },
    de: { open: "Chat öffnen", close: "Chat schließen", title: "Chatten Sie mit uns", placeholder: "Nachricht eingeben…", send: "Senden",
          connecting: "Verbinde…", reconnecting: "Verbinde erneut…", offline: "Offline – Nachrichten werden gesendet, sobald Sie wieder online sind.",
          human: "Wir verbinden Sie mit einer Person…", agent: (n) => `${n} ist dem Gespräch beigetreten`, left: (n) => `${n} hat das Gespräch verlassen`,
          typing: "schreibt…", seen: "Gesehen", sources: "Quellen", resolved: "Dieses Gespräch wurde gelöst.", closed: "Dieses Gespräch ist geschlossen.",
          you: "Sie", assistant: "Assistent", talk: "Mit einer Person sprechen", greeting: "Hallo! Wie können wir helfen?", failed: "Nicht gesendet – neuer Versuch",
          messages: "Nachrichten", good: "Hilfreich", bad: "Nicht hilfreich", why: "Was können wir besser machen? (optional)", thanks: "Danke für Ihr Feedback!",
          unavailable: "Der Chat ist auf dieser Website nicht verfügbar." },
    pt: { open: "Abrir chat", close: "Fechar chat", title: "Fale conosco", placeholder: "Digite sua mensagem…", send: "Enviar",
          connecting: "Conectando…", reconnecting: "Reconectando…", offline: "Sem conexão — as mensagens serão enviadas ao reconectar.",
          human: "Conectando você a uma pessoa…", agent: (n) => `${n} entrou na conversa`, left: (n) => `${n} saiu`,
          typing: "digitando…", seen: "Visto", sources: "Fontes", resolved: "Esta conversa foi resolvida.", closed: "Esta conversa está encerrada.",
          you: "Você", assistant: "Assistente", talk: "Falar com uma pessoa", greeting: "Olá! Como podemos ajudar?", failed: "Não enviado — tentando de novo",
          messages: "Mensagens", good: "Útil", bad: "Não foi útil", why: "O que poderia ser melhor? (opcional)", thanks: "Obrigado pelo seu feedback!",
          unavailable: "O chat não está disponível neste site." },
    ja: { open: "チャットを開く", close: "チャットを閉じる", title: "チャットでお問い合わせ", placeholder: "メッセージを入力…", send: "送信",
          connecting: "接続中…", reconnecting: "再接続中…", offline: "オフラインです。再接続後にメッセージを送信します。",
          human: "担当者におつなぎしています…", agent: (n) => `${n}が会話に参加しました`, left: (n) => `${n}が退出しました`,
          typing: "入力中…", seen: "既読", sources: "出典", resolved: "この会話は解決済みです。", closed: "この会話は終了しました。",
          you: "あなた", assistant: "アシスタント", talk: "担当者と話す", greeting: "こんにちは！ご用件をどうぞ。", failed: "未送信 — 再試行中",
          messages: "メッセージ", good: "役に立った", bad: "役に立たなかった", why: "改善点を教えてください（任意）", thanks: "ご意見ありがとうございます！",
          unavailable: "このサイトではチャットをご利用いただけません。" },
    ar: { open: "فتح الدردشة", close: "إغلاق الدردشة", title: "تحدث معنا", placeholder: "اكتب رسالتك…", send: "إرسال",
          connecting: "جارٍ الاتصال…", reconnecting: "جارٍ إعادة الاتصال…", offline: "أنت غير متصل — ستُرسل الرسائل عند عودة الاتصال.",
          human: "جارٍ توصيلك بموظف…", agent: (n) => `انضم ${n} إلى المحادثة`, left: (n) => `غادر ${n}`,
          typing: "يكتب…", seen: "تمت المشاهدة", sources: "المصادر", resolved: "تم حل هذه المحادثة.", closed: "هذه المحادثة مغلقة.",
          you: "أنت", assistant: "المساعد", talk: "التحدث إلى موظف", greeting: "مرحبًا! كيف يمكننا المساعدة؟", failed: "لم تُرسل — إعادة المحاولة",
          messages: "الرسائل", good: "مفيد", bad: "غير مفيد", why: "ما الذي يمكن تحسينه؟ (اختياري)", thanks: "شكرًا على ملاحظاتك!",
          unavailable: "الدردشة غير متاحة على هذا الموقع." },
    he: { open: "פתיחת צ׳אט", close: "סגירת צ׳אט", title: "דברו איתנו", placeholder: "הקלידו הודעה…", send: "שליחה",
          connecting: "מתחבר…", reconnecting: "מתחבר מחדש…", offline: "אין חיבור — ההודעות יישלחו כשהחיבור יחזור.",
          human: "מחברים אותך לנציג…", agent: (n) => `${n} הצטרף/ה לשיחה`, left: (n) => `${n} יצא/ה`,
          typing: "מקליד/ה…", seen: "נראה", sources: "מקורות", resolved: "השיחה נפתרה.", closed: "השיחה סגורה.",
          you: "את/ה", assistant: "עוזר", talk: "לדבר עם נציג", greeting: "שלום! איך נוכל לעזור?", failed: "לא נשלח — מנסה שוב",
          messages: "הודעות", good: "מועיל", bad: "לא מועיל", why: "מה אפשר לשפר? (לא חובה)", thanks: "תודה על המשוב!",
          unavailable: "הצ׳אט אינו זמין באתר זה." },
  };
  // The pre-chat form's labels: name, email, phone, company, and its button.
  const F = {
    en: ["Name", "Email", "Phone", "Company", "Start chat"], es: ["Nombre", "Correo electrónico", "Teléfono", "Empresa", "Empezar el chat"],
    fr: ["Nom", "E-mail", "Téléphone", "Entreprise", "Démarrer le chat"], de: ["Name", "E-Mail", "Telefon", "Firma", "Chat starten"],
    pt: ["Nome", "E-mail", "Telefone", "Empresa", "Iniciar chat"], ja: ["お名前", "メール", "電話番号", "会社名", "チャットを開始"],
    ar: ["الاسم", "البريد الإلكتروني", "الهاتف", "الشركة", "بدء الدردشة"], he: ["שם", "אימייל", "טלפון", "חברה", "התחלת צ׳אט"],
  };
  // Files: the attach button's label, and what a refused or failed upload says.
  const A = {
    en: ["Attach a file", "The file could not be sent"], es: ["Adjuntar un archivo", "No se pudo enviar el archivo"],
    fr: ["Joindre un fichier", "Le fichier n’a pas pu être envoyé"], de: ["Datei anhängen", "Die Datei konnte nicht gesendet werden"],
    pt: ["Anexar um arquivo", "Não foi possível enviar o arquivo"], ja: ["ファイルを添付", "ファイルを送信できませんでした"],
    ar: ["إرفاق ملف", "تعذّر إرسال الملف"], he: ["צירוף קובץ", "לא ניתן היה לשלוח את הקובץ"],
  };
  const lang = [d.lang, ...(navigator.languages || [navigator.language])]
    .map((l) => String(l || "").toLowerCase().slice(0, 2)).find((l) => T[l]) || "en";
  const t = T[lang], a11n = A[lang];
  // The visitor's own language (even one the widget has no strings for), for agents' translation.
  const speaks = [d.lang, navigator.language].map((l) => String(l || "")).find((l) => /^[a-z]{2,3}(-[a-z0-9]{2,8}){0,3}$/i.test(l)) || lang;
  const rtl = ["ar", "he", "fa", "ur"].includes(lang);
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
  // Another signed-in customer on this browser must not see the previous one's conversation.
  if ((state.user || null) !== (d.userId || null)) {
    state = { pending: [], last_seq: 0, user: d.userId || null, visitor_id: d.userId ? undefined : state.visitor_id };
    save();
  }

  // ---------------------------------------------------------------- DOM (Shadow DOM: host CSS cannot leak in)
  const host = document.createElement("div");
  host.id = "prism-chat";
  const root = host.attachShadow({ mode: "open" });
  const css = `
:host { all: initial; }
/* Inherited properties cross the shadow boundary: reset the ones host pages like to set. */
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; letter-spacing: normal;
  word-spacing: normal; text-transform: none; text-align: start; font-style: normal; font-weight: 400; text-indent: 0; }
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
.status[hidden], form[hidden] { display: none; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f9fafb; }
.msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; line-height: 1.4; font-size: 14px; white-space: pre-wrap; word-wrap: break-word; }
.msg.customer { align-self: flex-end; background: ${color}; color: #fff; border-end-end-radius: 4px; }
.msg.ai, .msg.agent, .msg.system { align-self: flex-start; background: #fff; border: 1px solid #e5e7eb; border-end-start-radius: 4px; }
.msg.ai .body, .msg.agent .body { white-space: normal; }
.body p { margin: 0 0 6px; } .body p:last-child, .body ul:last-child, .body ol:last-child { margin-bottom: 0; }
.body ul, .body ol { margin: 0 0 6px; padding-inline-start: 20px; }
.body code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; background: #f3f4f6; border-radius: 4px; padding: 0 3px; }
.body pre { margin: 0 0 6px; padding: 6px 8px; background: #f3f4f6; border-radius: 6px; overflow-x: auto; white-space: pre; }
.body pre code { background: none; padding: 0; }
.body a { color: ${color}; } .body strong { font-weight: 700; } .body em { font-style: italic; }
.rate { display: flex; gap: 4px; margin-top: 6px; align-items: center; flex-wrap: wrap; }
.rate button { background: none; border: 1px solid #d1d5db; border-radius: 6px; cursor: pointer; font-size: 13px; padding: 1px 7px; color: #374151; }
.rate button[aria-pressed="true"] { background: ${color}; border-color: ${color}; color: #fff; }
.rate form { display: flex; gap: 4px; width: 100%; padding: 0; border: 0; background: none; }
.rate input { flex: 1; min-width: 0; border: 1px solid #d1d5db; border-radius: 6px; padding: 3px 6px; font-size: 13px; color: #111827; }
.rate .thanks { font-size: 12px; color: #6b7280; }
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
form.lead { flex-direction: column; gap: 4px; border-top: 0; border-bottom: 1px solid #e5e7eb; font-size: 13px; color: #374151; }
.lead input:not([type=checkbox]) { border: 1px solid #d1d5db; border-radius: 6px; padding: 6px 8px; font-size: 14px; color: #111827; }
.lead .consent { display: flex; gap: 6px; align-items: flex-start; margin: 4px 0; }
.lead button { padding: 8px 14px; align-self: flex-start; }
.lead .err { color: #b91c1c; margin: 0; min-height: 1em; }
.survey { align-self: stretch; background: #fff; border: 1px solid #e5e7eb; border-radius: 12px; padding: 10px 12px; font-size: 14px; display: flex; flex-direction: column; gap: 8px; }
.survey h3 { font-size: 14px; margin: 0; font-weight: 700; }
.survey fieldset { border: 0; margin: 0; padding: 0; } .survey legend { padding: 0; margin-bottom: 4px; }
.survey .scale { display: flex; flex-wrap: wrap; gap: 4px; }
.survey .scale button { min-width: 30px; background: #fff; border: 1px solid #d1d5db; border-radius: 6px; padding: 4px 6px; cursor: pointer; color: #374151; font-size: 13px; }
.survey .scale button[aria-pressed="true"] { background: ${color}; border-color: ${color}; color: #fff; }
.survey textarea { width: 100%; min-height: 50px; }
.survey .go { align-self: flex-start; background: ${color}; color: #fff; border: 0; border-radius: 8px; padding: 6px 14px; cursor: pointer; }
.survey .err { color: #b91c1c; margin: 0; }
form button.attach { background: none; color: #6b7280; padding: 0 4px; display: flex; align-items: center; }
.files { display: flex; flex-direction: column; gap: 4px; margin-top: 2px; }
.files a { color: inherit; font-size: 13px; text-decoration: underline; word-break: break-all; }
.files img { display: block; max-width: 100%; max-height: 220px; height: auto; border-radius: 8px; background: #e5e7eb; }
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
<section class="panel" id="prism-panel" role="dialog" aria-modal="false" aria-labelledby="prism-title" lang="${lang}" dir="${rtl ? "rtl" : "ltr"}" hidden>
  <header><h2 id="prism-title"></h2><button type="button" class="close" aria-label="${t.close}">✕</button></header>
  <div class="status" role="status" hidden></div>
  <div class="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0" aria-label="${t.messages}"></div>
  <div class="typing" aria-live="polite"></div>
  <button type="button" class="human">${t.talk}</button>
  <form>
    <label class="sr" for="prism-input">${t.placeholder}</label>
    <button type="button" class="attach" aria-label="${a11n[0]}" title="${a11n[0]}"><svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9"/></svg></button>
    <input type="file" class="file" hidden tabindex="-1" accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,.txt,.csv,.md,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp,.rtf">
    <textarea id="prism-input" rows="1" placeholder="${t.placeholder}" maxlength="4000"></textarea>
    <button type="submit">${t.send}</button>
  </form>
</section>`;
  root.append(tpl.content);
  const $ = (s) => root.querySelector(s);
  const launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), statusEl = $(".status"), typingEl = $(".typing");
  const input = $("textarea"), form = $("form"), humanBtn = $(".human"), attachBtn = $(".attach"), fileInput = $("input.file");
  $("#prism-title").textContent = d.title || t.title;

  // The status line says three things, the most urgent first: the connection (connecting,
  // offline; gone when it opens), what the visitor's last action met (a refused file; kept until
  // their next action, so a reconnect or a status frame arriving meanwhile does not wipe it
  // before it is read), and the conversation's state (with a person, resolved, closed).
  const line = { link: "", notice: "", state: "" };
  function say(slot, text) {
    line[slot] = text || "";
    const shown = line.link || line.notice || line.state;
    statusEl.textContent = shown;
    statusEl.hidden = !shown;
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
  // ---------------------------------------------------------------- a safe Markdown subset
  // Answers may use **bold**, *emphasis*, `code`, fenced code, lists and [links](https://…).
  // Everything is built as DOM nodes from text: nothing is ever parsed as HTML, and only
  // http(s) links survive.
  const INLINE = /(`[^`\n]+`)|\*\*([^*\n]+)\*\*|__([^_\n]+)__|(?<![\w*])\*([^*\s][^*\n]*?)\*(?![\w*])|(?<![\w_])_([^_\s][^_\n]*?)_(?![\w_])|\[([^\]\n]+)\]\(([^()\s]+)\)|(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"])/g;
  function inline(parent, text) {
    let at = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > at) parent.append(text.slice(at, m.index));
      at = m.index + m[0].length;
      let node;
      if (m[1]) { node = document.createElement("code"); node.textContent = m[1].slice(1, -1); }
      else if (m[2] || m[3]) { node = document.createElement("strong"); inline(node, m[2] || m[3]); }
      else if (m[4] || m[5]) { node = document.createElement("em"); inline(node, m[4] || m[5]); }
      else {
        const href = safeUrl(m[7] || m[8]);
        if (!href) { parent.append(m[0]); continue; }
        node = Object.assign(document.createElement("a"), { href, target: "_blank", rel: "noopener noreferrer nofollow" });
        node.textContent = m[6] || m[8];
      }
      parent.append(node);
    }
    if (at < text.length) parent.append(text.slice(at));
  }
  function markdown(target, text) {
    target.replaceChildren();
    const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    let list = null, para = null;
    const end = () => { list = null; para = null; };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (/^\s*```/.test(line)) {
        end();
        const code = [];
        while (++i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i]);
        const pre = document.createElement("pre"), c = document.createElement("code");
        c.textContent = code.join("\n");
        pre.append(c);
        target.append(pre);
        continue;
      }
      const item = /^\s*(?:([-*•])|(\d{1,3})[.)])\s+(.*)$/.exec(line);
      if (item) {
        const tag = item[1] ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) { list = document.createElement(tag); target.append(list); }
        para = null;
        const li = document.createElement("li");
        inline(li, item[3]);
        list.append(li);
        continue;
      }
      if (!line.trim()) { end(); continue; }
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (heading) {
        end();
        const p = document.createElement("p"), b = document.createElement("strong");
        inline(b, heading[1]);
        p.append(b);
        target.append(p);
        continue;
      }
      list = null;
      if (para) para.append(document.createElement("br"));
      else { para = document.createElement("p"); target.append(para); }
      inline(para, line);
    }
  }
  function setBody(el, kind, text) {
    const body = el.querySelector(".body");
    body.dataset.text = text;
    // Customers' own words stay exactly as typed; answers get the Markdown subset.
    if (kind === "ai" || kind === "agent") markdown(body, text);
    else body.textContent = text;
  }
  // Thumbs up/down under each answer; a thumbs down asks what could be better.
  function renderRating(el, seq) {
    if (el.querySelector(".rate")) return;
    state.ratings = state.ratings || {};
    const box = document.createElement("div");
    box.className = "rate";
    const thumb = (value, label, icon) => {
      const b = Object.assign(document.createElement("button"), { type: "button", textContent: icon });
      b.dataset.rating = value;
      b.setAttribute("aria-label", label);
      b.setAttribute("aria-pressed", String(state.ratings[seq] === value));
      b.addEventListener("click", () => rate(box, seq, value));
      return b;
    };
    box.append(thumb("up", t.good, "👍"), thumb("down", t.bad, "👎"));
    el.append(box);
  }
  async function rate(box, seq, value, comment) {
    try {
      await api("PUT", `/v1/conversations/${state.conversation_id}/messages/${seq}/rating`, comment ? { rating: value, comment } : { rating: value }, true);
    } catch { return; }
    state.ratings[seq] = value;
    save();
    box.querySelectorAll("button[data-rating]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.rating === value)));
    box.querySelectorAll("form, .thanks").forEach((n) => n.remove());
    if (value === "down" && comment === undefined) {
      const f = document.createElement("form");
      const field = Object.assign(document.createElement("input"), { type: "text", maxLength: 1000, placeholder: t.why });
      field.setAttribute("aria-label", t.why);
      f.append(field, Object.assign(document.createElement("button"), { type: "submit", textContent: t.send }));
      f.addEventListener("submit", (e) => { e.preventDefault(); if (field.value.trim()) rate(box, seq, "down", field.value.trim()); });
      box.append(f);
      field.focus();
    } else {
      box.append(Object.assign(document.createElement("span"), { className: "thanks", textContent: t.thanks }));
    }
  }
  function bubble(kind, author, text) {
    const el = document.createElement("div");
    el.className = `msg ${kind}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = whoLabel(author);
    const body = document.createElement("div");
    body.className = "body";
    el.append(who, body);
    setBody(el, kind, text);
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
      if (el) { setBody(el, "ai", m.text); el.removeAttribute("aria-busy"); }
    }
    if (!el) el = bubble(m.author.type, m.author, m.text);
    el.classList.remove("pending");
    el.dataset.seq = m.seq;
    renderCitations(el, m.meta);
    renderFiles(el, m.meta);
    if (m.author.type === "ai" || m.author.type === "agent") renderRating(el, m.seq);
    bubbles.set(m.seq, el);
    if (m.seq > state.last_seq) { state.last_seq = m.seq; save(); }
  }
  // ---------------------------------------------------------------- files
  // A message's files: each a link that opens it; images (up to PREVIEW bytes) shown inline.
  // Links are short-lived, so each is fetched when shown and again before a click once stale.
  const PREVIEW = 5 * 1024 * 1024;
  const size = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`);
  const fileLink = (id) => api("GET", `/v1/conversations/${state.conversation_id}/files/${encodeURIComponent(id)}`, null, true);
  function renderFiles(el, meta) {
    const list = meta && Array.isArray(meta.attachments) ? meta.attachments.filter((f) => f && typeof f.id === "string") : [];
    if (!list.length || el.querySelector(".files")) return;
    const body = el.querySelector(".body");
    // A bare file's text only repeats its name.
    if (/^(🖼|📎) /u.test(body.dataset.text || body.textContent || "")) body.hidden = true;
    const box = document.createElement("div");
    box.className = "files";
    for (const f of list) {
      const a = document.createElement("a");
      a.className = "file";
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = `${String(f.name || "file")} (${size(Number(f.size) || 0)})`;
      let expires = 0;
      const refresh = () => fileLink(f.id).then((r) => {
        a.href = r.url;
        expires = r.expires_at;
        if (r.inline && f.kind === "image" && f.size <= PREVIEW && !a.querySelector("img")) {
          const img = document.createElement("img");
          img.alt = String(f.name || "");
          if (f.width && f.height) { img.width = Math.min(f.width, 240); img.height = Math.round(img.width * f.height / f.width); }
          img.src = r.url;
          a.prepend(img);
        }
      }).catch(() => {});
      const fresh = () => { if (Date.now() > expires - 60000) refresh(); };
      a.addEventListener("pointerenter", fresh);
      a.addEventListener("focus", fresh);
      refresh();
      box.append(a);
    }
    el.append(box);
  }
  // Sends a file: its own pending bubble, one POST with the bytes (retried with the same key
  // on a network failure), then the message it became. What is typed goes with it as its
  // caption (a question about the file, which the assistant answers).
  async function sendFile(file) {
    if (!file) return;
    say("notice", "");
    const caption = input.value.trim();
    input.value = "";
    try { await ensureConversation(); } catch (e) { if (e.refused || e.status === 403) return; say("notice", a11n[1]); return; }
    if (!ws && !es) connect();
    const id = (crypto.randomUUID && crypto.randomUUID()) || `f${Date.now()}${Math.random()}`;
    const el = bubble("customer", { type: "customer" }, caption || `📎 ${file.name}`);
    el.classList.add("pending");
    el.dataset.client = id;
    for (let attempt = 0; attempt < 3; attempt++) {
      let res;
      try {
        res = await fetch(`${base}/v1/conversations/${state.conversation_id}/files?name=${encodeURIComponent(file.name)}${caption ? `&caption=${encodeURIComponent(caption)}` : ""}`, {
          method: "POST",
          headers: { authorization: `Bearer ${state.token}`, "idempotency-key": id, "content-type": file.type || "application/octet-stream" },
          body: file,
        });
      } catch { await new Promise((r) => setTimeout(r, 1000 * (attempt + 1))); continue; }
      const json = await res.json().catch(() => ({}));
      if (res.ok) { showMessage(json.message); return; }
      el.remove();
      if (caption && !input.value) input.value = caption;
      say("notice", `${a11n[1]}: ${json.error ? json.error.message : res.statusText}`);
      return;
    }
    el.remove();
    say("notice", a11n[1]);
  }
  function aiDelta(f) {
    let el = drafts.get(f.reply_to);
    if (!el) {
      el = bubble("ai", { type: "ai" }, "");
      el.setAttribute("aria-busy", "true");
      drafts.set(f.reply_to, el);
    }
    setBody(el, "ai", (el.querySelector(".body").dataset.text || "") + f.text);
    log.scrollTop = log.scrollHeight;
  }
  function showStatus(f) {
    if (f.status === "pending_human") say("state", t.human);
    else if (f.status === "resolved") { say("state", t.resolved); survey(); }
    else if (f.status === "closed") say("state", t.closed);
    else say("state", "");
  }

  // ---------------------------------------------------------------- API
  async function api(method, path, body, useToken) {
    const sep = path.includes("?") ? "&" : "?";
    const url = `${base}${path}${useToken ? "" : `${sep}key=${encodeURIComponent(key)}`}`;
    const headers = { "content-type": "application/json" };
    if (useToken) headers.authorization = `Bearer ${state.token}`;
    const extra = body && body.__idem ? { "idempotency-key": body.__idem } : {};
    if (body) delete body.__idem;
    let res;
    try {
      res = await fetch(url, { method, headers: { ...headers, ...extra }, body: body ? JSON.stringify(body) : undefined });
    } catch (e) {
      // A page the tenant did not allow is refused by CORS, which a script sees only as a
      // failed fetch: if the edge answers an opaque probe, it is up and refused us.
      const up = await fetch(`${base}/widget.js`, { mode: "no-cors" }).then(() => true, () => false);
      throw Object.assign(new Error(up ? "refused" : "offline"), { status: 0, refused: up });
    }
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(json.error ? json.error.message : res.statusText), { status: res.status, body: json });
    return json;
  }
  async function ensureConversation() {
    if (state.conversation_id && state.token) return;
    const body = { name: d.name || undefined, email: d.email || undefined, visitor_id: state.visitor_id, language: speaks };
    if (d.userId && d.userHash) Object.assign(body, { user_id: d.userId, user_hash: d.userHash, visitor_id: undefined });
    let r;
    try { r = await api("POST", "/v1/conversations", body); } catch (e) {
      if (e.status === 403 || e.refused) say("state", t.unavailable);
      throw e;
    }
    Object.assign(state, { conversation_id: r.conversation.conversation_id, token: r.token, visitor_id: r.visitor_id || state.visitor_id, last_seq: 0 });
    save();
  }
  // On a new device or tab: a verified customer (or a returning visitor) gets their latest
  // unfinished conversation back, with its history. Nothing is created until they write.
  async function resume() {
    if (state.conversation_id) return;
    const body = d.userId && d.userHash ? { user_id: d.userId, user_hash: d.userHash } : state.visitor_id ? { visitor_id: state.visitor_id } : null;
    if (!body) return;
    try {
      const r = await api("POST", "/v1/widget/resume", body);
      Object.assign(state, { conversation_id: r.conversation.conversation_id, token: r.token, last_seq: 0 });
      save();
    } catch (e) {
      if (e.status === 403 || e.refused) say("state", t.unavailable);
    }
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
      case "error": if (f.code === "conversation_closed") say("state", t.closed); break;
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
    say("link", opened ? t.reconnecting : t.connecting);
    const url = `${base.replace(/^http/, "ws")}/v1/conversations/${state.conversation_id}/live?token=${encodeURIComponent(state.token)}`;
    let didOpen = false;
    const sock = new WebSocket(url);
    ws = sock;
    const timer = setTimeout(() => { if (!didOpen) sock.close(); }, 5000);
    sock.onopen = () => {
      didOpen = true; opened = true; retry = 0; wsFailures = 0; mode = "ws";
      clearTimeout(timer);
      say("link", "");
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
    say("link", opened ? t.reconnecting : t.connecting);
    const url = `${base}/v1/conversations/${state.conversation_id}/events?token=${encodeURIComponent(state.token)}&after_seq=${state.last_seq}`;
    es = new EventSource(url);
    es.addEventListener("welcome", (e) => { opened = true; retry = 0; say("link", ""); onFrame(JSON.parse(e.data)); flushPending(); });
    es.addEventListener("message", (e) => onFrame(JSON.parse(e.data)));
    for (const kind of ["status", "typing", "presence", "read"]) es.addEventListener(kind, (e) => onFrame(JSON.parse(e.data)));
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) { es = null; scheduleReconnect(); } else say("link", t.reconnecting); };
  }
  function scheduleReconnect() {
    if (!navigator.onLine) { say("link", t.offline); return; }
    say("link", t.reconnecting);
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, Math.min(15000, 400 * 2 ** retry) * (0.8 + Math.random() * 0.4));
  }
  window.addEventListener("online", () => { if (!ws && !es) connect(); });
  window.addEventListener("offline", () => say("link", t.offline));

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
    if (panel.hidden || !state.last_seq) return;
    if (mode === "ws" && ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "read", up_to_seq: state.last_seq }));
    else if (mode === "sse" && sendRead.sent !== state.last_seq) {
      sendRead.sent = state.last_seq;
      api("POST", `/v1/conversations/${state.conversation_id}/read`, { up_to_seq: state.last_seq }, true).catch(() => {});
    }
  }

  async function send(text) {
    text = text.trim();
    if (!text) return;
    say("notice", "");
    try { await ensureConversation(); } catch (e) {
      if (e.refused || e.status === 403) return; // this site may not use the chat: nothing to retry
      say("notice", t.failed);
    }
    const p = { client_msg_id: (crypto.randomUUID && crypto.randomUUID()) || `m${Date.now()}${Math.random()}`, text };
    state.pending.push(p);
    save();
    const el = bubble("customer", { type: "customer" }, text);
    el.classList.add("pending");
    el.dataset.client = p.client_msg_id;
    if (!ws && !es) connect();
    else await transmit(p);
  }

  // ---------------------------------------------------------------- the tenant's pre-chat form
  // Shown once, before the first message, when the tenant has one (GET /v1/widget/settings);
  // the message box waits until it is sent. The consent stored is the tenant's wording, which
  // the server adds: the browser only says the box was ticked.
  let formAsked = false, settingsP = null;
  const settings = () => (settingsP = settingsP || api("GET", "/v1/widget/settings").catch(() => ({})));
  async function leadForm() {
    if (formAsked || state.lead_done || state.conversation_id) return;
    formAsked = true;
    const f = (await settings()).lead_form;
    if (!f || state.conversation_id) return;
    const labels = F[lang] || F.en;
    const names = ["name", "email", "phone", "company"];
    const lf = document.createElement("form");
    lf.className = "lead";
    for (const name of f.fields) {
      const label = document.createElement("label");
      const field = document.createElement("input");
      field.id = label.htmlFor = `prism-lead-${name}`;
      field.name = name;
      field.type = name === "email" ? "email" : name === "phone" ? "tel" : "text";
      field.autocomplete = { name: "name", email: "email", phone: "tel", company: "organization" }[name];
      field.required = f.required.includes(name);
      field.maxLength = 200;
      label.textContent = labels[names.indexOf(name)] + (field.required ? " *" : "");
      lf.append(label, field);
    }
    if (f.consent_text) {
      const c = document.createElement("label");
      c.className = "consent";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "consent";
      box.required = true;
      c.append(box, document.createTextNode(f.consent_text));
      lf.append(c);
    }
    const err = document.createElement("p");
    err.className = "err";
    err.setAttribute("role", "alert");
    const go = document.createElement("button");
    go.type = "submit";
    go.textContent = labels[4];
    lf.append(err, go);
    lf.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { consent: !!(lf.elements.consent && lf.elements.consent.checked) };
      for (const name of f.fields) { const v = lf.elements[name].value.trim(); if (v) body[name] = v; }
      go.disabled = true;
      try {
        await ensureConversation();
        await api("PUT", `/v1/conversations/${state.conversation_id}/lead`, body, true);
        state.lead_done = true;
        save();
        lf.remove();
        form.hidden = false;
        input.focus();
      } catch (x) { err.textContent = x.message; go.disabled = false; }
    });
    form.hidden = true;
    log.after(lf);
    lf.elements[0].focus();
  }

  // After a resolution, the tenant's satisfaction survey as a card in the log (GET/POST
  // /v1/conversations/{id}/survey; its words come in the customer's language from the server).
  // Answers are recorded once on the server, so a double click or a second tab is harmless.
  let surveyShown = false;
  async function survey() {
    if (surveyShown || !state.conversation_id) return;
    surveyShown = true; // before any await: the history and the live status frame both call this
    if (!(await settings()).surveys) return;
    let s;
    try { s = await api("GET", `/v1/conversations/${state.conversation_id}/survey`, undefined, true); } catch { surveyShown = false; return; }
    const card = document.createElement("form");
    card.className = "survey";
    card.setAttribute("aria-label", s.intro);
    const done = (text) => { card.replaceChildren(Object.assign(document.createElement("h3"), { textContent: text })); };
    log.append(card);
    log.scrollTop = log.scrollHeight;
    if (s.status === "responded") return done(s.thanks);
    if (s.status !== "sent") return card.remove();
    card.append(Object.assign(document.createElement("h3"), { textContent: s.intro }));
    const answers = {};
    for (const q of s.questions) {
      const fs = document.createElement("fieldset");
      fs.append(Object.assign(document.createElement("legend"), { textContent: q.text + (q.required ? " *" : "") }));
      if (q.kind === "text") {
        const ta = Object.assign(document.createElement("textarea"), { maxLength: 2000, name: q.id });
        ta.setAttribute("aria-label", q.text);
        ta.addEventListener("input", () => { answers[q.id] = ta.value; });
        fs.append(ta);
      } else {
        const row = document.createElement("div");
        row.className = "scale";
        const opts = q.kind === "choice" ? q.options.map((o) => [o.id, o.label]) : Array.from({ length: q.max - q.min + 1 }, (_, i) => [q.min + i, String(q.min + i)]);
        for (const [value, label] of opts) {
          const b = Object.assign(document.createElement("button"), { type: "button", textContent: label });
          b.dataset.value = value;
          b.setAttribute("aria-pressed", "false");
          b.addEventListener("click", () => {
            answers[q.id] = value;
            row.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
          });
          row.append(b);
        }
        fs.append(row);
      }
      card.append(fs);
    }
    const err = Object.assign(document.createElement("p"), { className: "err" });
    err.setAttribute("role", "alert");
    const go = Object.assign(document.createElement("button"), { type: "submit", className: "go", textContent: t.send });
    card.append(err, go);
    card.addEventListener("submit", async (e) => {
      e.preventDefault();
      go.disabled = true;
      try {
        const r = await api("POST", `/v1/conversations/${state.conversation_id}/survey`, { answers }, true);
        done(r.thanks);
      } catch (x) { err.textContent = x.message; go.disabled = false; }
    });
  }

  // ---------------------------------------------------------------- interaction
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t.close);
    if (!log.childElementCount) note(d.greeting || t.greeting);
    input.focus();
    leadForm();
    // A workspace without a team (flag human_handoff off) offers no person to talk to.
    settings().then((s) => { if (s.human_handoff === false) humanBtn.hidden = true; });
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
    const now = Date.now();
    if (input.lastTyping && now - input.lastTyping < 2500) return;
    if (mode === "ws" && ws && ws.readyState === 1) { input.lastTyping = now; ws.send('{"type":"typing","typing":true}'); }
    else if (mode === "sse" && state.conversation_id) {
      input.lastTyping = now;
      api("POST", `/v1/conversations/${state.conversation_id}/typing`, { typing: true }, true).catch(() => {});
    }
  });
  attachBtn.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => { const f = fileInput.files[0]; fileInput.value = ""; sendFile(f); });
  humanBtn.addEventListener("click", async () => {
    try {
      await ensureConversation();
      if (!ws && !es) connect();
      await api("POST", `/v1/conversations/${state.conversation_id}/handoff`, {}, true);
    } catch { /* status arrives over the live connection */ }
  });

  document.body.append(host);
  // A returning visitor resumes their conversation where they left it (on this device, or
  // as a verified customer on any device).
  resume().then(() => { if (state.conversation_id) connect(); });
  window.PrismChat = { open, close, send, sendFile, get state() { return { ...state }; } };
})();
