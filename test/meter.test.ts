/**
 * The meter (METER=on): exact counts of billed operations for a known sequence, one batch then one
 * alarm, and one read of a user's activity, and who may read them. The numbers are the pipeline's cost today: a change to what ingest
 * or a step stores changes them, on purpose.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MeterCounts } from "../src/meter";
import { auth, batch, postActions, request, sessionPath, uniqueSession } from "./helpers/api";
import { installWorld } from "./helpers/world";

const P = "meter";
let installed: ReturnType<typeof installWorld>;

beforeEach(() => {
  installed = installWorld();
});
afterEach(() => installed.restore());

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function readMeter(): Promise<MeterCounts> {
  const res = await request("/v1/meter", { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()) as MeterCounts;
}

/** The counts once `done` holds for them (workerd fires the alarm by itself). */
async function meterWhen(done: (m: MeterCounts) => boolean): Promise<MeterCounts> {
  for (let i = 0; i < 200; i++) {
    const m = await readMeter();
    if (done(m)) return m;
    await sleep(10);
  }
  throw new Error(`the meter never reached the expected counts: ${JSON.stringify((await readMeter()).do_requests)}`);
}

type Totals = Omit<MeterCounts["storage"], "by_statement">;

/** The storage totals, without the per-statement breakdown. */
const totals = ({ by_statement: _, ...t }: MeterCounts["storage"]): Totals => t;

function delta(a: MeterCounts["storage"], b: MeterCounts["storage"]): Totals {
  return {
    sql_statements: a.sql_statements - b.sql_statements,
    rows_read: a.rows_read - b.rows_read,
    rows_written: a.rows_written - b.rows_written,
    alarm_writes: a.alarm_writes - b.alarm_writes,
  };
}

describe("GET /v1/meter", () => {
  it("counts a new session's first batch, a second batch, then the one alarm a flush makes due", async () => {
    const s = uniqueSession();
    expect((await request("/v1/meter", { method: "DELETE", headers: auth })).status).toBe(204);

    expect((await postActions(batch(P, s, 0, 3))).status).toBe(202);
    const first = await readMeter();
    expect(first).toMatchObject({
      worker_requests: { total: 1, by_route: { "POST /v1/actions": 1 } },
      // The isolate's first touch of the product reads its settings (cached for a minute after).
      do_requests: { total: 2, rpc: 2, rpc_by_method: { ingest: 1, "product.settings": 1 }, alarms: 0 },
      destination_calls: { total: 0, by_destination: {} },
      llm: { calls: 0, prompt_tokens: 0, completion_tokens: 0 },
    });
    // Creating the schema is most of a new session's first batch (each of the 10 migrations is recorded as a row),
    // with the product's own (today's schema at once, its memory one FTS5 table; its 3 migrations recorded).
    expect(totals(first.storage)).toEqual({ sql_statements: 25, rows_read: 31, rows_written: 27, alarm_writes: 1 });

    expect((await postActions(batch(P, s, 3, 3))).status).toBe(202);
    const second = await readMeter();
    expect(second.do_requests).toMatchObject({ total: 3, rpc_by_method: { ingest: 2, "product.settings": 1 }, alarms: 0 });
    // One batch into a warm session (its alarm is already set early enough: no alarm write; its row is the one it read last;
    // its Idempotency-Key is claimed by the one statement that records it).
    expect(delta(second.storage, first.storage)).toEqual({ sql_statements: 3, rows_read: 3, rows_written: 3, alarm_writes: 0 });

    expect((await request(sessionPath(P, s, "/flush"), { method: "POST", headers: auth })).status).toBe(202);
    // The alarm is over once it has re-armed itself (the flush set it first).
    const after = await meterWhen((m) => m.do_requests.alarms === 1 && m.storage.alarm_writes === 2);
    const prompt = installed.world.llm.prompts[0]!;
    expect(after).toMatchObject({
      worker_requests: { total: 3, by_route: { "POST /v1/actions": 2, "POST /v1/products/:p/sessions/:s/flush": 1 } },
      // The index step writes the session's entry to its product once (created); the memory step sends its summary once.
      do_requests: { total: 7, rpc: 6, rpc_by_method: { ingest: 2, flush: 1, "product.settings": 1, "product.indexSession": 1, "product.remember": 1 }, alarms: 1 },
      // One raw note for the burst, its window's summary, then the raw note's redaction.
      destination_calls: { total: 3, by_destination: { webhook: { post: 2, redact: 1 } } },
      llm: { calls: 1, prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: 40 },
    });
    // The flush and the alarm (four steps, the index entry and the summary's memory entry; the flush's alarm fired and was
    // re-armed once, for retention). The closed window gets its row only with its summary, one write with the session's
    // (its LLM call counted in it). Memory writes one row, the entry's in its FTS5 table (the product reads the entry's 32
    // slots by rowid and checks for entries left from 001); the session's record of it rides on its next write. The index
    // step's sweep of expired entries is one probe of the index's expiry order (nothing expired: no scan). The plan counts
    // the notes to redact (REDACT_AHEAD_AT), which reads one row more than finding the oldest. The summary step reads its
    // windows and the rolling prompt's previous summary in one statement; the memory and post-summary steps take the
    // summary's row as it was written (RETURNING), not read back, and so does the next read of the session row. The
    // stored summaries' windows are read once, then kept by the writes that change them; the plan finds the next summary
    // for memory there, so the memory step's progress alone does not make it read again.
    expect(delta(after.storage, second.storage)).toEqual({ sql_statements: 88, rows_read: 160, rows_written: 25, alarm_writes: 1 });
  });

  it("counts one read of a user's activity: the index, then each of the user's sessions", async () => {
    const user = uniqueSession("metered-user");
    const sessions = [uniqueSession(), uniqueSession()];
    expect((await request("/v1/meter", { method: "DELETE", headers: auth })).status).toBe(204);
    for (const s of sessions) expect((await postActions(batch(P, s, 0, 3, { user_id: user }))).status).toBe(202);
    // A session with a user writes its index entry at once, whatever the debounce holds back.
    await meterWhen((m) => m.do_requests.rpc_by_method["product.indexSession"] === 2 && m.do_requests.alarms === 2);
    expect((await request("/v1/meter", { method: "DELETE", headers: auth })).status).toBe(204);

    const res = await request(`/v1/products/${P}/users/${user}/activity`, { headers: auth });
    expect(((await res.json()) as { sessions: unknown[] }).sessions).toHaveLength(2);
    const read = await readMeter();
    expect(read).toMatchObject({
      worker_requests: { total: 1, by_route: { "GET /v1/products/:p/users/:u/activity": 1 } },
      do_requests: { total: 3, rpc: 3, rpc_by_method: { "product.listSessions": 1, activity: 2 }, alarms: 0 },
      destination_calls: { total: 0 },
      llm: { calls: 0 },
    });
    // Reads only (the index listing, each session's latest summary and uncovered batches; each session's row is the one
    // its actor read last, as nothing was written since): no row written, no alarm touched.
    expect(totals(read.storage)).toEqual({ sql_statements: 5, rows_read: 6, rows_written: 0, alarm_writes: 0 });
  });

  it("answers 401 to a wrong or missing token (a deployment without METER: test/api.test.ts)", async () => {
    expect((await request("/v1/meter", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await request("/v1/meter")).status).toBe(401);
    expect((await request("/v1/meter", { method: "DELETE", headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });
});
