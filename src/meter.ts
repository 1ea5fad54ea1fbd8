/**
 * @module
 * Exact counts of what Cloudflare bills, for the benchmark's price per million actions (`METER=on`,
 * read at `GET /v1/meter`). Counters are per isolate: `wrangler dev` runs the Worker and every
 * Durable Object of the script in one, so one read sees them all. Off (the default), each hook
 * costs one boolean check.
 *
 * Rows follow the SQLite-backed Durable Object pricing: a cursor's final `rowsRead`/`rowsWritten`,
 * and each `setAlarm()` (and `deleteAlarm()`, a delete) as one row written.
 */

/** One statement's share (by its SQL text, whitespace folded, first 120 characters): where the rows go. */
export interface StatementCounts {
  runs: number;
  rows_read: number;
  rows_written: number;
}

export interface MeterCounts {
  since: string;
  worker_requests: { total: number; by_route: Record<string, number> };
  do_requests: { total: number; rpc: number; rpc_by_method: Record<string, number>; alarms: number };
  storage: { sql_statements: number; rows_read: number; rows_written: number; alarm_writes: number; by_statement: Record<string, StatementCounts> };
  destination_calls: { total: number; by_destination: Record<string, Record<string, number>> };
  llm: { calls: number; prompt_tokens: number; completion_tokens: number };
}

let enabled = false;
let counts = fresh();
/** The last cursor handed out, settled at the next statement or read (SQL here is synchronous, so it has been consumed by then). */
let open: SqlStorageCursor<Record<string, SqlStorageValue>> | null = null;
/** The SQL of `open`, as `by_statement` keys it. */
let openQuery = "";

function fresh(): MeterCounts {
  return {
    since: new Date().toISOString(),
    worker_requests: { total: 0, by_route: {} },
    do_requests: { total: 0, rpc: 0, rpc_by_method: {}, alarms: 0 },
    storage: { sql_statements: 0, rows_read: 0, rows_written: 0, alarm_writes: 0, by_statement: {} },
    destination_calls: { total: 0, by_destination: {} },
    llm: { calls: 0, prompt_tokens: 0, completion_tokens: 0 },
  };
}

const bump = (map: Record<string, number>, key: string, by = 1) => {
  map[key] = (map[key] ?? 0) + by;
};

/** Sets whether this isolate counts, from the `METER` setting. */
export function configureMeter(on: boolean): void {
  enabled = on;
}

export function meterEnabled(): boolean {
  return enabled;
}

/** The counts so far (a copy). */
export function meterCounts(): MeterCounts {
  settleCursor();
  return structuredClone(counts);
}

export function resetMeter(): void {
  open = null;
  counts = fresh();
}

/** Path parameters replaced, so routes aggregate: `/v1/products/:p/sessions/:s/context`. */
export function routeOf(method: string, pathname: string): string {
  const route = pathname
    .replace(/^\/v1\/products\/[^/]+\/sessions\/[^/]+/, "/v1/products/:p/sessions/:s")
    .replace(/^\/v1\/products\/[^/]+\/users\/[^/]+/, "/v1/products/:p/users/:u")
    .replace(/^\/webhook\/[^/]+/, "/webhook/:p")
    .replace(/^\/v1\/segment\/[^/]+/, "/v1/segment/:p");
  return `${method} ${route}`;
}

export const meter = {
  /** The meter's own route is not counted: reading the counters must not change them. */
  workerRequest(method: string, url: string): void {
    if (!enabled) return;
    const { pathname } = new URL(url);
    if (pathname === "/v1/meter") return;
    counts.worker_requests.total += 1;
    bump(counts.worker_requests.by_route, routeOf(method, pathname));
  },
  rpc(method: string): void {
    if (!enabled) return;
    counts.do_requests.total += 1;
    counts.do_requests.rpc += 1;
    bump(counts.do_requests.rpc_by_method, method);
  },
  alarm(): void {
    if (!enabled) return;
    counts.do_requests.total += 1;
    counts.do_requests.alarms += 1;
  },
  /** A `setAlarm()` or `deleteAlarm()`: one row written each. */
  alarmWrite(): void {
    if (!enabled) return;
    counts.storage.alarm_writes += 1;
    counts.storage.rows_written += 1;
  },
  destinationCall(destination: string, kind: "post" | "redact" | "find" | "thread" | "replace"): void {
    if (!enabled) return;
    counts.destination_calls.total += 1;
    bump((counts.destination_calls.by_destination[destination] ??= {}), kind);
  },
  /** One LLM call; `usage` as the OpenAI-compatible answer gives it (absent when the call failed). */
  llmCall(usage?: { prompt_tokens?: number; completion_tokens?: number } | null): void {
    if (!enabled) return;
    counts.llm.calls += 1;
    counts.llm.prompt_tokens += usage?.prompt_tokens ?? 0;
    counts.llm.completion_tokens += usage?.completion_tokens ?? 0;
  },
};

function settleCursor(): void {
  if (!open) return;
  counts.storage.rows_read += open.rowsRead ?? 0;
  counts.storage.rows_written += open.rowsWritten ?? 0;
  const share = (counts.storage.by_statement[openQuery] ??= { runs: 0, rows_read: 0, rows_written: 0 });
  share.runs += 1;
  share.rows_read += open.rowsRead ?? 0;
  share.rows_written += open.rowsWritten ?? 0;
  open = null;
}

const meteredSql = new WeakMap<SqlStorage, SqlStorage>();

/** `sql` itself when the meter is off; else the same storage, counting statements and rows. */
export function metered(sql: SqlStorage): SqlStorage {
  if (!enabled) return sql;
  let wrapped = meteredSql.get(sql);
  if (!wrapped) {
    wrapped = {
      exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
        settleCursor();
        const cursor = sql.exec<T>(query, ...bindings);
        counts.storage.sql_statements += 1;
        open = cursor;
        openQuery = query.replace(/\s+/g, " ").slice(0, 120);
        return cursor;
      },
      get databaseSize() {
        return sql.databaseSize;
      },
      Cursor: sql.Cursor,
      Statement: sql.Statement,
    };
    meteredSql.set(sql, wrapped);
  }
  return wrapped;
}
