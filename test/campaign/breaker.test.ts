import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig, need } from "../../src/config";
import { llmBreaker } from "../../src/llm/breaker";
import { auth, makeStepsDue, postActions, request, sessionPath, settle, stubFor, uniqueSession } from "../helpers/api";
import { installWorld } from "../helpers/world";

const config = need(loadConfig(env).core);
const breaker = llmBreaker(config.llm);

/** The fake world behind fetch, with an LLM that is down until the test says otherwise. */
function installFakes() {
  const llm = { down: true };
  const { world } = installWorld();
  world.faults = { dest: () => null, llm: () => (llm.down ? "503" : null) };
  return { world, llm };
}

function session() {
  const sessionId = uniqueSession("brk");
  return { productId: "p-alpha", sessionId, stub: stubFor("p-alpha", sessionId) };
}

type Session = ReturnType<typeof session>;

/** One batch of K actions: it closes a window. */
function closeWindow(s: Session, from: number) {
  const actions = Array.from({ length: config.threshold }, (_, i) => ({ title: `t${from + i}`, description: `opened tok-9-${from + i}`, canonical_url: "https://app.example.com/pricing", type: "click" }));
  return postActions({ type: "actions", product_id: s.productId, session_id: s.sessionId, actions });
}

/** Runs the session's alarm until nothing is due now (workerd may also fire it by itself). */
function fire(s: Session): Promise<void> {
  return settle(s.productId, s.sessionId);
}

function alarmOf(s: Session): Promise<number | null> {
  return runInDurableObject(stubFor(s.productId, s.sessionId), (_i, state) => state.storage.getAlarm());
}

function stepsDue(s: Session): Promise<void> {
  return makeStepsDue(s.productId, s.sessionId);
}

async function stateOf(s: Session) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (await (await request(sessionPath(s.productId, s.sessionId), { headers: auth })).json()) as any;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()) + 5);

beforeEach(() => breaker.reset());
afterEach(() => {
  vi.restoreAllMocks();
  breaker.reset();
});

describe("LLM circuit breaker, shared by the sessions of one isolate", () => {
  it("opens after consecutive failures; while open no call is made, windows wait and raw context stays; one probe after the pause; success closes", async () => {
    const { world, llm } = installFakes();
    const [a, b, c] = [session(), session(), session()];
    for (const s of [a, b]) {
      await closeWindow(s, 0);
      await fire(s);
    }
    expect(world.llm.calls).toBe(config.llm.breakerFailures);
    expect(breaker.view()).toMatchObject({ state: "open", failures: 2 });
    const openUntil = Date.parse(breaker.view().open_until!);

    // A third session: its raw note goes out, its window waits, and no LLM call is made.
    await closeWindow(c, 0);
    await fire(c);
    expect(world.llm.calls).toBe(2);
    const held = await stateOf(c);
    expect(held.llm_breaker).toEqual({ state: "open", failures: 2, open_until: new Date(openUntil).toISOString() });
    expect(held.windows).toMatchObject({ closed: 1, unsummarised: 1 });
    expect(held.counters).toMatchObject({ raw_notes_posted: 1, llm_calls: 0, redactions: 0 });
    expect(held.notes).toHaveLength(1);
    const context = (await (await request(sessionPath(c.productId, c.sessionId, "/context"), { headers: auth })).json()) as { context: string };
    expect(context.context).toContain("opened tok-9-1");
    // Its alarm wakes exactly when the pause ends.
    expect(await alarmOf(c)).toBe(openUntil);
    const health = (await (await exports.default.fetch(new Request("https://relay.test/healthz"))).json()) as { llm_breaker: unknown };
    expect(health.llm_breaker).toMatchObject({ state: "open", failures: 2, failure_threshold: 2, pause_ms: config.llm.breakerPauseMs });

    // After the pause: one session probes, held out by the LLM until the others have woken and
    // waited. Which one probes is up to the platform: the third session's alarm fires by itself.
    llm.down = false;
    const release = world.hold("llm");
    await sleepUntil(openUntil);
    for (const s of [a, b]) await stepsDue(s);
    const runs = [a, b, c].map((s) => ({ s, done: false, run: fire(s) }));
    for (const r of runs) void r.run.then(() => (r.done = true));
    while (runs.filter((r) => r.done).length < 2) await sleep(2);
    const waiting = runs.filter((r) => r.done).map((r) => r.s);
    expect(world.llm.calls).toBe(3);
    expect(world.llm.inFlight).toBe(1);
    expect(breaker.view().state).toBe("half-open");
    for (const s of waiting) expect(await alarmOf(s)).toBe(Date.parse(breaker.view().open_until!));
    release();
    await Promise.all(runs.map((r) => r.run));
    expect(breaker.view()).toEqual({ state: "closed", failures: 0, open_until: null });

    // Closed again: the waiting sessions summarise, post, and only then redact their raw notes.
    for (const s of waiting) await fire(s);
    expect(world.llm.calls).toBe(5);
    expect(world.llm.maxInFlight).toBe(1);
    for (const s of [a, b, c]) {
      const st = await stateOf(s);
      expect(st.counters).toMatchObject({ summaries: 1, summary_notes_posted: 1, redactions: 1 });
      expect(st.llm_breaker.state).toBe("closed");
    }
    expect(world.violations).toEqual([]);
  });

  it("a failed probe re-opens the breaker for another pause", async () => {
    const { world } = installFakes();
    const [a, b] = [session(), session()];
    for (const s of [a, b]) {
      await closeWindow(s, 0);
      await fire(s);
    }
    const firstUntil = Date.parse(breaker.view().open_until!);
    await sleepUntil(firstUntil);
    await stepsDue(a);
    await fire(a);
    expect(world.llm.calls).toBe(3);
    const view = breaker.view();
    expect(view).toMatchObject({ state: "open", failures: 3 });
    expect(Date.parse(view.open_until!)).toBeGreaterThanOrEqual(firstUntil + config.llm.breakerPauseMs);
    // The probe's failure is the step's failure too: it backs off as usual.
    const st = await stateOf(a);
    expect(st.step).toMatchObject({ kind: "summarise", attempts: 2, last_error: "LLM answered 503" });
  });
});
