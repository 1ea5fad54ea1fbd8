// The floor of the runtime for bench/run.mjs: the least a Worker + SQLite Durable Object can do
// per ingest request. It reads the body, routes by session to one actor (RPC, as our worker does),
// and the actor does one INSERT. Same request shape and auth header as POST /v1/actions, so the
// driver sends identical load to both.
/* global Response, URL */
import { DurableObject } from "cloudflare:workers";

export class FloorActor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, at INTEGER NOT NULL)",
    );
  }

  ingest(body) {
    this.ctx.storage.sql.exec("INSERT INTO batches (body, at) VALUES (?, ?)", body, Date.now());
    return { ok: true };
  }

  stats() {
    const row = this.ctx.storage.sql.exec("SELECT count(*) AS n FROM batches").one();
    return { rows: row.n, bytes: this.ctx.storage.sql.databaseSize };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/v1/actions") {
      const body = await request.text();
      let session;
      try {
        const parsed = JSON.parse(body);
        session = `${parsed.product_id}:${parsed.session_id}`;
      } catch {
        return new Response("bad json", { status: 400 });
      }
      await env.FLOOR.getByName(session).ingest(body);
      return new Response(null, { status: 202 });
    }
    const m = url.pathname.match(/^\/v1\/products\/([^/]+)\/sessions\/([^/]+)$/);
    if (request.method === "GET" && m) {
      const stats = await env.FLOOR.getByName(`${m[1]}:${m[2]}`).stats();
      return Response.json({ storage: stats });
    }
    return new Response("ok");
  },
};
