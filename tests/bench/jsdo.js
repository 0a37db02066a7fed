// The baseline for chat fan-out: a minimal JavaScript Durable Object that persists each message
// to its SQLite storage (with an idempotency key), acknowledges it and broadcasts it to every
// hibernatable WebSocket — the least a durable chat room must do.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS msgs (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_msg_id TEXT UNIQUE, text TEXT NOT NULL, ts INTEGER NOT NULL)",
    );
  }

  async fetch() {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  webSocketMessage(ws, data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (f.type !== "message") return;
    const ts = Date.now();
    this.ctx.storage.sql.exec("INSERT INTO msgs (client_msg_id, text, ts) VALUES (?, ?, ?)", f.client_msg_id, f.text, ts);
    const seq = this.ctx.storage.sql.exec("SELECT last_insert_rowid() AS s").one().s;
    ws.send(JSON.stringify({ type: "ack", client_msg_id: f.client_msg_id, seq, ts }));
    const out = JSON.stringify({ type: "message", seq, text: f.text, ts });
    for (const s of this.ctx.getWebSockets()) s.send(out);
  }

  webSocketClose(ws, code) {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
  }
}

export default {
  fetch(req, env) {
    const url = new URL(req.url);
    return env.ROOM.get(env.ROOM.idFromName(url.pathname)).fetch(req);
  },
};
