// The fan-out anchor with the durable work PrismAI does beyond a chat room, written plainly in
// JavaScript: the room of jsdo.js, plus a mirror outbox written in the same storage step as each
// message, applied at most every 100 ms (the window PrismAI's conversation uses) to a D1 mirror in
// one batch — the statements PrismAI's mirror runs for a window of customer messages (the
// message rows; their quarter-hour counter, each message counted once; their analysis rows with
// the analysis counter taken out and added back around them), and the conversation's row — and one
// publish of the window's events to a second Durable Object (the inbox). What it leaves out of
// PrismAI's work: authentication and rate limits, read state and analytics facts, the text
// analysis itself, the rollup contribution of the conversation row when it changes (not on
// plain messages), and outgoing webhooks and leads (no subscribers in the benchmark).
import { DurableObject } from "cloudflare:workers";

const WINDOW_MS = 100;
// Most values one D1 statement binds.
const MAX_PARAMS = 100;

// `{head} VALUES (?1, …), (…) {tail}`: as many rows to a statement as D1's limit allows.
function insertRows(db, head, tail, rows) {
  const out = [];
  const per = Math.max(1, Math.floor(MAX_PARAMS / rows[0].length));
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    let n = 0;
    const tuples = chunk.map((row) => "(" + row.map(() => "?" + ++n).join(", ") + ")");
    out.push(db.prepare(`${head} VALUES ${tuples.join(", ")} ${tail}`).bind(...chunk.flat()));
  }
  return out;
}
const BUCKET_MS = 900000;

const MIRROR_SCHEMA = [
  "CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, last_seq INTEGER, last_at INTEGER, preview TEXT, version INTEGER)",
  "CREATE TABLE IF NOT EXISTS messages (room TEXT, seq INTEGER, client_msg_id TEXT, text TEXT, ts INTEGER, PRIMARY KEY (room, seq))",
  "CREATE TABLE IF NOT EXISTS counts (bucket INTEGER PRIMARY KEY, msgs INTEGER NOT NULL DEFAULT 0)",
  "CREATE TABLE IF NOT EXISTS analysis (room TEXT, seq INTEGER, sentiment REAL, intent TEXT, ts INTEGER, PRIMARY KEY (room, seq))",
  "CREATE TABLE IF NOT EXISTS intents (bucket INTEGER, intent TEXT, messages INTEGER NOT NULL DEFAULT 0, sentiment_sum REAL NOT NULL DEFAULT 0, PRIMARY KEY (bucket, intent))",
];

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS msgs (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_msg_id TEXT UNIQUE, text TEXT NOT NULL, ts INTEGER NOT NULL)",
    );
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, text TEXT NOT NULL, ts INTEGER NOT NULL)");
    this.flushedAt = 0;
    this.flushing = false;
    this.mirrorReady = false;
  }

  async fetch(req) {
    this.name = new URL(req.url).pathname;
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment({ room: this.name });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async webSocketMessage(ws, data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (f.type !== "message") return;
    this.name ??= ws.deserializeAttachment()?.room;
    const ts = Date.now();
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT INTO msgs (client_msg_id, text, ts) VALUES (?, ?, ?)", f.client_msg_id, f.text, ts);
    const seq = sql.exec("SELECT last_insert_rowid() AS s").one().s;
    sql.exec("INSERT INTO outbox (seq, text, ts) VALUES (?, ?, ?)", seq, f.text, ts);
    ws.send(JSON.stringify({ type: "ack", client_msg_id: f.client_msg_id, seq, ts }));
    const out = JSON.stringify({ type: "message", seq, text: f.text, ts });
    for (const s of this.ctx.getWebSockets()) s.send(out);
    const since = ts - this.flushedAt;
    if (since >= 0 && since < WINDOW_MS) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.flushedAt + WINDOW_MS);
      return;
    }
    this.flushedAt = ts;
    await this.flush();
  }

  async alarm() {
    this.flushedAt = Date.now();
    await this.flush();
  }

  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const db = this.env.DB;
      const room = this.name ?? "room";
      if (!this.mirrorReady) {
        await db.batch(MIRROR_SCHEMA.map((s) => db.prepare(s)));
        this.mirrorReady = true;
      }
      for (;;) {
        const rows = this.ctx.storage.sql.exec("SELECT seq, text, ts FROM outbox ORDER BY seq LIMIT 50").toArray();
        if (rows.length === 0) break;
        const stmts = [];
        // The window's statements as PrismAI's mirror writes them: one count per quarter hour
        // (messages mirrored already left out), the analysis counter taken out and added back
        // around one multi-row insert, multi-row message inserts; inserts split at D1's 100
        // parameters.
        const buckets = new Map();
        for (const r of rows) {
          const bucket = Math.floor(r.ts / BUCKET_MS);
          if (!buckets.has(bucket)) buckets.set(bucket, []);
          buckets.get(bucket).push(r.seq);
        }
        for (const [bucket, seqs] of buckets) {
          stmts.push(
            db
              .prepare(
                "INSERT INTO counts (bucket, msgs) SELECT ?1, n FROM (SELECT COUNT(*) AS n FROM json_each(?3) AS j WHERE NOT EXISTS (SELECT 1 FROM messages WHERE room = ?2 AND seq = j.value)) WHERE n > 0 ON CONFLICT (bucket) DO UPDATE SET msgs = msgs + excluded.msgs",
              )
              .bind(bucket, room, JSON.stringify(seqs)),
          );
        }
        const seqs = JSON.stringify(rows.map((r) => r.seq));
        const around = (sign) =>
          db
            .prepare(
              "INSERT INTO intents (bucket, intent, messages, sentiment_sum) SELECT ts / 900000, intent, ?3, ?3 * sentiment FROM analysis WHERE room = ?1 AND seq IN (SELECT value FROM json_each(?2)) ON CONFLICT (bucket, intent) DO UPDATE SET messages = messages + excluded.messages, sentiment_sum = sentiment_sum + excluded.sentiment_sum",
            )
            .bind(room, seqs, sign);
        stmts.push(around(-1));
        stmts.push(
          ...insertRows(db, "INSERT INTO analysis (room, seq, sentiment, intent, ts)", "ON CONFLICT (room, seq) DO NOTHING",
            rows.map((r) => [room, r.seq, 0, "other", r.ts])),
        );
        stmts.push(around(1));
        stmts.push(
          ...insertRows(db, "INSERT INTO messages (room, seq, text, ts)", "ON CONFLICT (room, seq) DO NOTHING",
            rows.map((r) => [room, r.seq, r.text, r.ts])),
        );
        const last = rows[rows.length - 1];
        stmts.push(
          db
            .prepare(
              "INSERT INTO rooms (id, last_seq, last_at, preview, version) VALUES (?1, ?2, ?3, ?4, ?2) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, last_at = excluded.last_at, preview = excluded.preview, version = excluded.version WHERE excluded.version > rooms.version",
            )
            .bind(room, last.seq, last.ts, last.text.slice(0, 120)),
        );
        await db.batch(stmts);
        const inbox = this.env.INBOX.get(this.env.INBOX.idFromName("inbox"));
        await inbox.fetch("http://inbox/publish", {
          method: "POST",
          body: JSON.stringify(rows.map((r) => ({ room, seq: r.seq, ts: r.ts, preview: r.text.slice(0, 120) }))),
        });
        this.ctx.storage.sql.exec("DELETE FROM outbox WHERE seq <= ?", last.seq);
      }
    } catch (e) {
      // Kept in the outbox: the next window retries.
      console.error("mirror flush failed", String(e));
      await this.ctx.storage.setAlarm(Date.now() + 1000);
    } finally {
      this.flushing = false;
    }
  }

  webSocketClose(ws, code) {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
  }
}

// The tenant's inbox: keeps each event (so an agent who connects later can catch up) and sends
// it to the agents' sockets (none in the benchmark).
export class Inbox extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)");
  }

  async fetch(req) {
    const events = await req.json();
    for (const e of events) {
      const data = JSON.stringify(e);
      this.ctx.storage.sql.exec("INSERT INTO events (data) VALUES (?)", data);
      for (const s of this.ctx.getWebSockets()) s.send(data);
    }
    return new Response("ok");
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    // How many messages reached the mirror (the benchmark checks the anchor did its work).
    if (url.pathname === "/mirrored") {
      // Before the first flush the table does not exist yet: nothing mirrored.
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages").first().catch(() => ({ n: 0 }));
      return Response.json({ messages: row.n });
    }
    return env.ROOM.get(env.ROOM.idFromName(url.pathname)).fetch(req);
  },
};
