// The floor of the runtime for bench/run.mjs: the least a Worker + SQLite Durable Object can do
// per ingest request. It reads the body, routes by session to one actor (RPC, as our worker does),
// and the actor does one INSERT. Same request shape and auth header as POST /v1/actions, so the
// driver sends identical load to both. It keeps the same meter as ours (src/meter.ts: GET and
// DELETE /v1/meter, same JSON), always on, so the floor is priced the same way.
// With LLM_URL set ("floor + summary call"), every second batch of a session (a window, at K=10 and
// 5 actions per batch) also makes the least a summary costs: one read of the window, one
// chat-completions call, one row for its answer, after the request has answered. It is the
// reference for what any pipeline that summarises every K actions must spend above the floor.
/* global Response, URL, fetch */
import { DurableObject } from "cloudflare:workers";

const fresh = () => ({
  since: new Date().toISOString(),
  worker_requests: { total: 0, by_route: {} },
  do_requests: { total: 0, rpc: 0, rpc_by_method: {}, alarms: 0 },
  storage: { sql_statements: 0, rows_read: 0, rows_written: 0, alarm_writes: 0 },
  destination_calls: { total: 0, by_destination: {} },
  llm: { calls: 0, prompt_tokens: 0, completion_tokens: 0 },
});
let counts = fresh();
const bump = (map, key) => (map[key] = (map[key] ?? 0) + 1);

function rpc(method) {
  counts.do_requests.total += 1;
  counts.do_requests.rpc += 1;
  bump(counts.do_requests.rpc_by_method, method);
}

/** One statement, consumed at once, its rows counted as billed. */
function exec(sql, query, ...bindings) {
  const cursor = sql.exec(query, ...bindings);
  const rows = cursor.toArray();
  counts.storage.sql_statements += 1;
  counts.storage.rows_read += cursor.rowsRead;
  counts.storage.rows_written += cursor.rowsWritten;
  return rows;
}

export class FloorActor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    exec(ctx.storage.sql, "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, at INTEGER NOT NULL)");
  }

  ingest(body) {
    rpc("ingest");
    const sql = this.ctx.storage.sql;
    exec(sql, "INSERT INTO batches (body, at) VALUES (?, ?)", body, Date.now());
    this.batches = (this.batches ?? 0) + 1;
    if (this.env.LLM_URL && this.batches % 2 === 0) this.summarise(sql);
    return { ok: true };
  }

  /** The window's one LLM call, its answer stored as one row; runs after the request answered. */
  summarise(sql) {
    const window = exec(sql, "SELECT body FROM batches ORDER BY seq DESC LIMIT 2");
    const call = fetch(this.env.LLM_URL, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer floor" },
      body: JSON.stringify({ model: "floor", messages: [{ role: "user", content: window.map((r) => r.body).join("\n") }] }),
    })
      .then((r) => r.json())
      .then((answer) => exec(sql, "INSERT INTO batches (body, at) VALUES (?, ?)", JSON.stringify(answer), Date.now()))
      .catch(() => {});
    void call;
  }

  stats() {
    rpc("stats");
    const [row] = exec(this.ctx.storage.sql, "SELECT count(*) AS n FROM batches");
    return { rows: row.n, bytes: this.ctx.storage.sql.databaseSize };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/v1/meter") {
      if (request.method === "DELETE") {
        counts = fresh();
        return new Response(null, { status: 204 });
      }
      return Response.json(counts);
    }
    counts.worker_requests.total += 1;
    bump(counts.worker_requests.by_route, `${request.method} ${url.pathname.replace(/^\/v1\/products\/[^/]+\/sessions\/[^/]+/, "/v1/products/:p/sessions/:s")}`);
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
