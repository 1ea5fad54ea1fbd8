import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig, need } from "../../src/config";
import { probeLeaseMs, sharedBreaker } from "../../src/llm/breaker";
import { auth, postActions, request, sessionPath, stubFor, uniqueSession } from "../helpers/api";
import { settingsSuffix, VIRTUAL_ALARM_KEY } from "./campaignWorker";

const config = need(loadConfig(env).core);
const breaker = sharedBreaker({
  failureThreshold: config.llm.breakerFailures,
  pauseMs: config.llm.breakerPauseMs,
  probeLeaseMs: probeLeaseMs(config.llm.timeoutMs),
});

type LlmMode = "down" | "up" | "slow-up";

/** The LLM (llm.test) and webhook receiver (hooks.test) at the fetch boundary. */
function installFakes() {
  const world = { mode: "down" as LlmMode, llmCalls: 0, inFlight: 0, maxInFlight: 0, posts: [] as string[], redactions: [] as string[] };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    const host = new URL(req.url).host;
    if (host === "hooks.test") {
      const event = (await req.json()) as { type: string; data: { note_id?: string; redacts?: string } };
      if (event.type === "context.redaction") world.redactions.push(event.data.redacts!);
      else world.posts.push(event.data.note_id!);
      return new Response(null, { status: 204 });
    }
    world.llmCalls += 1;
    world.inFlight += 1;
    world.maxInFlight = Math.max(world.maxInFlight, world.inFlight);
    try {
      if (world.mode === "down") return Response.json({ error: { message: "overloaded" } }, { status: 503 });
      // The probe takes a moment, so other sessions wake while it is still out.
      if (world.mode === "slow-up") await new Promise((r) => setTimeout(r, 40));
      const content = "The user browsed the pricing pages.";
      return Response.json({ id: "c", object: "chat.completion", created: 0, model: "m", choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }] });
    } finally {
      world.inFlight -= 1;
    }
  });
  return world;
}

/** A session whose K is 2 (its id says so to the campaign's actor). */
function session() {
  const sessionId = `${uniqueSession("brk")}${settingsSuffix(2, "rolling")}`;
  return { productId: "p-alpha", sessionId, stub: stubFor("p-alpha", sessionId) };
}

type Session = ReturnType<typeof session>;

function closeWindow(s: Session, from: number) {
  const actions = [0, 1].map((i) => ({ title: `t${from + i}`, description: `opened tok-9-${from + i}`, canonical_url: "https://app.example.com/pricing", type: "click" }));
  return postActions({ type: "actions", product_id: s.productId, session_id: s.sessionId, actions });
}

/** Fires the actor's alarm as the platform would (the campaign's actors keep it in storage). */
function fire(s: Session): Promise<number | null> {
  return runInDurableObject(s.stub, async (instance, state) => {
    const at = state.storage.kv.get<number>(VIRTUAL_ALARM_KEY) ?? null;
    state.storage.kv.delete(VIRTUAL_ALARM_KEY);
    await instance.alarm();
    return at;
  });
}

function alarmOf(s: Session): Promise<number | null> {
  return runInDurableObject(s.stub, (_i, state) => state.storage.kv.get<number>(VIRTUAL_ALARM_KEY) ?? null);
}

function stepsDue(s: Session): Promise<void> {
  return runInDurableObject(s.stub, (_i, state) => void state.storage.sql.exec("UPDATE steps SET next_attempt_at = 0"));
}

async function stateOf(s: Session) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (await (await request(sessionPath(s.productId, s.sessionId), { headers: auth })).json()) as any;
}

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now()) + 5));

beforeEach(() => breaker.reset());
afterEach(() => {
  vi.restoreAllMocks();
  breaker.reset();
});

describe("LLM circuit breaker, shared by the sessions of one isolate", () => {
  it("opens after consecutive failures; while open no call is made, windows wait and raw context stays; one probe after the pause; success closes", async () => {
    const world = installFakes();
    const [a, b, c] = [session(), session(), session()];
    for (const s of [a, b]) {
      await closeWindow(s, 0);
      await fire(s);
    }
    expect(world.llmCalls).toBe(config.llm.breakerFailures);
    expect(breaker.view()).toMatchObject({ state: "open", failures: 2 });
    const openUntil = Date.parse(breaker.view().open_until!);

    // A third session: its raw note goes out, its window waits, and no LLM call is made.
    await closeWindow(c, 0);
    await fire(c);
    expect(world.llmCalls).toBe(2);
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

    // After the pause: one session probes (slowly); the others wake meanwhile and wait.
    await sleepUntil(openUntil);
    world.mode = "slow-up";
    for (const s of [a, b]) await stepsDue(s);
    const probe = fire(a);
    await new Promise((r) => setTimeout(r, 10));
    await fire(b);
    await fire(c);
    expect(world.llmCalls).toBe(3);
    expect(breaker.view().state).toBe("half-open");
    expect(await alarmOf(c)).toBe(Date.parse(breaker.view().open_until!));
    await probe;
    expect(breaker.view()).toEqual({ state: "closed", failures: 0, open_until: null });

    // Closed again: the waiting sessions summarise, post, and only then redact their raw notes.
    world.mode = "up";
    for (const s of [b, c]) await fire(s);
    expect(world.llmCalls).toBe(5);
    expect(world.maxInFlight).toBe(1);
    for (const s of [a, b, c]) {
      const st = await stateOf(s);
      expect(st.counters).toMatchObject({ summaries: 1, summary_notes_posted: 1, redactions: 1 });
      expect(st.llm_breaker.state).toBe("closed");
    }
  });

  it("a failed probe re-opens the breaker for another pause", async () => {
    const world = installFakes();
    const [a, b] = [session(), session()];
    for (const s of [a, b]) {
      await closeWindow(s, 0);
      await fire(s);
    }
    const firstUntil = Date.parse(breaker.view().open_until!);
    await sleepUntil(firstUntil);
    await stepsDue(a);
    await fire(a);
    expect(world.llmCalls).toBe(3);
    const view = breaker.view();
    expect(view).toMatchObject({ state: "open", failures: 3 });
    expect(Date.parse(view.open_until!)).toBeGreaterThanOrEqual(firstUntil + config.llm.breakerPauseMs);
    // The probe's failure is the step's failure too: it backs off as usual.
    const st = await stateOf(a);
    expect(st.step).toMatchObject({ kind: "summarise", attempts: 2, last_error: "LLM answered 503" });
  });
});
