import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ageLastAction, batch, behindActor, getState, postActions, settle, sqlRows, stubFor, uniqueSession } from "./helpers/api";

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * Moves the session's last action into the past, as if that much time had gone by since: the
 * index write that activity had due then (at most a minute later) is in the past too.
 */
async function age(productId: string, sessionId: string, ms: number): Promise<void> {
  await behindActor(productId, sessionId, (sql) => ageLastAction(sql, ms, ["indexed_activity_at", "indexed_at"]));
}

async function epochOf(productId: string, sessionId: string): Promise<string> {
  const [row] = await sqlRows<{ epoch: string }>(productId, sessionId, "SELECT epoch FROM session");
  return row!.epoch;
}

afterEach(() => vi.restoreAllMocks());

describe("idle sessions (SESSION_IDLE_MS, default 30 minutes)", () => {
  it("an open window below K is closed after the idle time and summarised; then the session rests", async () => {
    const s = uniqueSession("idle");
    expect((await postActions(batch("p1", s, 0, 3))).status).toBe(202);
    await settle("p1", s);
    let { body } = await getState("p1", s);
    expect(body.open_window.actions).toBe(3);
    expect(body.windows.closed).toBe(0);
    // The alarm is armed for the idle deadline: 30 minutes after the last action.
    expect(Date.parse(body.next_alarm_at)).toBe(Date.parse(body.last_action_at) + 30 * MINUTE_MS);

    await age("p1", s, 29 * MINUTE_MS);
    await settle("p1", s);
    expect((await getState("p1", s)).body.windows.closed).toBe(0);

    await age("p1", s, 2 * MINUTE_MS);
    await runDurableObjectAlarm(stubFor("p1", s));
    await settle("p1", s);
    ({ body } = await getState("p1", s));
    expect(body.open_window).toEqual({ id: 2, actions: 0 });
    expect(body.windows).toMatchObject({ closed: 1, unsummarised: 0, unposted: 0, covered_through: 1 });
    expect(body.counters.summaries).toBe(1);
    expect(body.latest_summary.text).toMatch(/^Extractive summary \(no LLM configured\) of 3 actions/);
    // At rest the only deadline left is retention: 7 days after the last action.
    expect(Date.parse(body.next_alarm_at)).toBe(Date.parse(body.last_action_at) + 7 * DAY_MS);
  });

  it("a new action before the idle time pushes the deadline out instead", async () => {
    const s = uniqueSession("idle");
    await postActions(batch("p1", s, 0, 2));
    await settle("p1", s);
    await age("p1", s, 20 * MINUTE_MS);
    await postActions(batch("p1", s, 2, 1));
    await settle("p1", s);
    const { body } = await getState("p1", s);
    expect(body.windows.closed).toBe(0);
    expect(Date.parse(body.next_alarm_at)).toBe(Date.parse(body.last_action_at) + 30 * MINUTE_MS);
  });
});

describe("retention (SESSION_RETENTION_MS, default 7 days)", () => {
  it("an inactive session erases its storage and logs it without action text; a later event starts a fresh session", async () => {
    const s = uniqueSession("expire");
    await postActions(batch("p1", s, 0, 12));
    await settle("p1", s);
    const before = await getState("p1", s);
    expect(before.body.counters.actions_accepted).toBe(12);
    const oldEpoch = await epochOf("p1", s);

    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    await age("p1", s, 7 * DAY_MS + MINUTE_MS);
    await runDurableObjectAlarm(stubFor("p1", s));

    expect((await getState("p1", s)).status).toBe(404);
    const expired = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "session:expired");
    expect(expired).toEqual([expect.objectContaining({ event: "session:expired", actor: `p1:${s}`, idle_ms: expect.any(Number) })]);
    expect(expired[0]!.idle_ms as number).toBeGreaterThanOrEqual(7 * DAY_MS);
    expect(lines.join("\n")).not.toContain("User did thing");
    const tables = await runInDurableObject(stubFor("p1", s), (_i, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray(),
    );
    expect(tables).toEqual([]);
    expect(await runInDurableObject(stubFor("p1", s), (_i, state) => state.storage.getAlarm())).toBeNull();

    // The same batch again is new to the fresh session (its dedupe memory went with the rest).
    const again = await postActions(batch("p1", s, 0, 2));
    expect(again.status).toBe(202);
    await settle("p1", s);
    const { body } = await getState("p1", s);
    expect(body.counters).toMatchObject({ actions_accepted: 2, batches_accepted: 1, raw_notes_posted: 0, summaries: 0, redactions: 0 });
    expect(body.open_window).toEqual({ id: 1, actions: 2 });
    expect(body.windows.covered_through).toBe(0);
    expect(await epochOf("p1", s)).not.toBe(oldEpoch);
    expect(Date.parse(body.created_at)).toBeGreaterThan(Date.parse(before.body.created_at));
  });

  it("activity within the retention time keeps the session", async () => {
    const s = uniqueSession("expire");
    await postActions(batch("p1", s, 0, 2));
    await settle("p1", s);
    await age("p1", s, 6 * DAY_MS);
    await runDurableObjectAlarm(stubFor("p1", s));
    expect((await getState("p1", s)).status).toBe(200);
  });
});

describe("the extractive summariser and the LLM circuit breaker", () => {
  it("never consults or trips it: state and /healthz show no breaker", async () => {
    const s = uniqueSession("extractive");
    for (let i = 0; i < 30; i += 10) {
      await postActions(batch("p1", s, i, 10));
      await settle("p1", s);
    }
    const { body } = await getState("p1", s);
    expect(body.counters.summaries).toBe(3);
    expect(body.counters.llm_calls).toBe(0);
    expect(body.llm_breaker).toBeNull();
    const health = (await (await exports.default.fetch(new Request("https://relay.test/healthz"))).json()) as Record<string, unknown>;
    expect(health.summariser).toBe("extractive");
    expect(health.llm_breaker).toBeNull();
  });
});
