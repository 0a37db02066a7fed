// Six weeks of demo history for the analytics dashboard, as SQL for the local D1: conversations
// (with the facts their objects would have kept), messages, analysis and ratings, generated
// from a fixed seed so every developer sees the same numbers. The rollups are then rebuilt by
// POST /v1/analytics/recompute, the same path that turns any pre-analytics history into numbers.
//
// History is archived (`closed`): it never shows in the inbox's tabs, its messages carry no text
// (so search never offers a transcript whose conversation object does not exist), and its
// customer ids have no customer rows. It is analytics-only by construction.

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;

function prng(seed) {
  // mulberry32: small, fast, reproducible.
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const q = (v) => (v === null || v === undefined ? "NULL" : typeof v === "number" ? String(Math.round(v)) : `'${String(v).replace(/'/g, "''")}'`);

/**
 * @param {string} tenantId
 * @param {string[]} agents agent user ids
 * @param {number} now Unix ms
 * @param {number} days how many days back
 */
export function historySql(tenantId, agents, now, days = 42) {
  const rand = prng(1042);
  const pick = (weights) => {
    const total = weights.reduce((a, [, w]) => a + w, 0);
    let r = rand() * total;
    for (const [v, w] of weights) { if ((r -= w) < 0) return v; }
    return weights[weights.length - 1][0];
  };
  const between = (a, b) => a + rand() * (b - a);
  const out = [];
  const today = Math.floor(now / DAY) * DAY;
  let n = 0;
  for (let d = days; d >= 1; d--) {
    const dayStart = today - d * DAY;
    const weekday = (Math.floor(dayStart / DAY) + 3) % 7; // 0 = Monday
    const volume = Math.round((weekday < 5 ? 14 : 6) * between(0.7, 1.3) * (1 + (days - d) / days * 0.4));
    for (let i = 0; i < volume; i++) {
      n++;
      const id = `cnv_hist${String(n).padStart(5, "0")}`;
      const hour = pick([[8, 3], [9, 6], [10, 8], [11, 8], [12, 6], [13, 7], [14, 8], [15, 7], [16, 6], [17, 4], [18, 3], [19, 3], [20, 2], [21, 2], [22, 1], [7, 1], [23, 1], [2, 0.3]]);
      const created = dayStart + hour * HOUR + Math.floor(rand() * 60) * MIN;
      const channel = pick([["web", 55], ["email", 20], ["sms", 15], ["whatsapp", 10]]);
      const priority = pick([["normal", 78], ["high", 16], ["urgent", 6]]);
      const intent = pick([["question", 45], ["purchase", 12], ["complaint", 14], ["cancel", 6], ["human_request", 8], ["thanks", 5], ["other", 10]]);
      const contained = intent !== "human_request" && intent !== "complaint" && rand() < 0.7;
      const msgs = [];
      let t = created;
      const customer = (at, sentiment) => {
        msgs.push(["customer", "", at, null]);
        analysis.push([msgs.length, sentiment, at]);
      };
      const analysis = [];
      const mood = intent === "complaint" ? between(-0.9, -0.3) : intent === "thanks" ? between(0.4, 0.9) : between(-0.3, 0.5);
      customer(t, mood);
      const aiAt = t + Math.round(between(1500, 6000));
      const cited = rand() < 0.85;
      const meta = JSON.stringify({ provider: "offline", model: "offline", citations: cited ? [{ n: 1, title: "Help centre" }] : [] });
      msgs.push(["ai", "", aiAt, meta]);
      const aiSeq = msgs.length;
      let firstHuman = null, handoff = null, reason = null, resolved, resolvedBy, assignee = null, reopens = 0;
      if (contained) {
        if (rand() < 0.4) {
          customer(aiAt + Math.round(between(30, 180)) * 1000, mood + 0.2);
          msgs.push(["ai", "", msgs[msgs.length - 1][2] + 3000, meta]);
        }
        resolved = msgs[msgs.length - 1][2] + Math.round(between(2, 25)) * MIN;
        resolvedBy = "ai";
      } else {
        handoff = aiAt + Math.round(between(20, 90)) * 1000;
        reason = intent === "human_request" ? "customer_request" : pick([["low_confidence", 45], ["customer_request", 25], ["negative_sentiment", 20], ["max_turns", 10]]);
        assignee = agents[Math.floor(rand() * agents.length)];
        // Log-normal-ish waits: most within minutes, a tail into hours (nights, weekends).
        const wait = Math.exp(between(Math.log(1.5), Math.log(hour >= 18 || weekday >= 5 ? 240 : 45))) * MIN;
        firstHuman = Math.round(handoff + wait);
        msgs.push(["agent", assignee, firstHuman, null]);
        if (rand() < 0.6) {
          customer(firstHuman + Math.round(between(1, 8)) * MIN, mood + 0.3);
          msgs.push(["agent", assignee, msgs[msgs.length - 1][2] + Math.round(between(1, 10)) * MIN, null]);
        }
        resolved = msgs[msgs.length - 1][2] + Math.round(between(2, 60)) * MIN;
        resolvedBy = "human";
        if (rand() < 0.08) reopens = 1;
      }
      if (resolved > now) resolved = now - MIN;
      const count = (k) => msgs.filter((m) => m[0] === k).length;
      const last = msgs[msgs.length - 1];
      out.push(`INSERT OR IGNORE INTO conversations (id, tenant_id, customer_id, channel, status, assignee_id, priority, tags, subject,
  handoff_reason, last_seq, last_message_at, last_message_preview, unread_agent, unread_customer, mirror_version, created_at, updated_at,
  msgs_customer, msgs_ai, msgs_agent, first_customer_at, first_response_at, first_human_at, handoff_at, first_handoff_reason,
  resolved_at, resolved_by, reopens, rolled) VALUES (${[id, tenantId, `cus_hist${n}`, channel, "closed", assignee, priority, "[]", "Archived demo history",
        reason, msgs.length, last[2], "", 0, 0, 1, created, resolved, count("customer"), count("ai"), count("agent"), created, aiAt, firstHuman, handoff, reason,
        resolved, resolvedBy, reopens, 0].map(q).join(", ")});`);
      msgs.forEach(([kind, author, at, m], i) => {
        out.push(`INSERT OR IGNORE INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, meta, created_at) VALUES (${[id, i + 1, tenantId, `msg_hist${n}_${i + 1}`, kind, kind === "agent" ? author : kind === "ai" ? "ai" : `cus_hist${n}`, "", m, at].map(q).join(", ")});`);
      });
      for (const [seq, sentiment, at] of analysis) {
        const s = Math.max(-1, Math.min(1, sentiment));
        out.push(`INSERT OR IGNORE INTO message_analysis (tenant_id, conversation_id, seq, sentiment, intent, topics, language, source, created_at) VALUES (${q(tenantId)}, ${q(id)}, ${seq}, ${s.toFixed(2)}, ${q(seq === 1 ? intent : "other")}, '[]', 'en', 'local', ${Math.round(at)});`);
      }
      if (rand() < 0.3) {
        const up = rand() < (cited ? 0.85 : 0.5);
        out.push(`INSERT OR IGNORE INTO message_ratings (tenant_id, conversation_id, seq, author_type, rating, comment, customer_id, created_at, updated_at) VALUES (${[tenantId, id, aiSeq, "ai", up ? "up" : "down", null, `cus_hist${n}`, aiAt + MIN, aiAt + MIN].map(q).join(", ")});`);
      }
    }
  }
  // The intent rollup is kept as messages are analysed (the recompute does not rebuild it).
  out.push(`INSERT INTO analytics_intents (tenant_id, bucket, channel, intent, messages, sentiment_sum, negative)
  SELECT a.tenant_id, a.created_at / 900000, c.channel, a.intent, COUNT(*), SUM(a.sentiment), SUM(a.sentiment < -0.25)
  FROM message_analysis a JOIN conversations c ON c.id = a.conversation_id
  WHERE a.tenant_id = ${q(tenantId)} AND a.conversation_id LIKE 'cnv_hist%' GROUP BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, bucket, channel, intent) DO UPDATE SET messages = messages + excluded.messages,
    sentiment_sum = sentiment_sum + excluded.sentiment_sum, negative = negative + excluded.negative;`);
  return { sql: out.join("\n") + "\n", conversations: n };
}
