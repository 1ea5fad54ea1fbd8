/**
 * The push pipeline against a real outbound destination (Standard Webhooks) and an LLM, both
 * faked at the fetch boundary: windows and LLM calls, summary first, failures that lose nothing,
 * eviction between steps, and exactly-once notes.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { batch, getState, makeStepsDue, postActions, settle, stubFor, uniqueSession } from "./helpers/api";
import { crash, retryAlarm } from "./helpers/platform";
import { installWorld } from "./helpers/world";
import type { FaultSource } from "./world";

const P = "pipe";
let installed: ReturnType<typeof installWorld>;
let world: ReturnType<typeof installWorld>["world"];
let script: ReturnType<typeof installWorld>["faults"];

beforeEach(() => {
  installed = installWorld();
  ({ world, faults: script } = installed);
});
afterEach(() => {
  installed.restore();
  expect(world.violations).toEqual([]);
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function ingest(session: string, sizes: number[], from = 0): Promise<number> {
  let n = from;
  for (const size of sizes) {
    const res = await postActions(batch(P, session, n, size));
    expect(res.status).toBe(202);
    n += size;
  }
  return n;
}

function actionsIn(text: string): number[] {
  return [...text.matchAll(/User did thing (\d+)/g)].map((m) => Number(m[1]));
}

describe("windows and LLM calls", () => {
  it("25 actions in batches of 3,4,3,5,2,4,4 with K=10 close two windows (10 and 11 actions) with exactly two LLM calls", async () => {
    const s = uniqueSession();
    // The lane keeps up (it settles after every batch); windows that wait together are summarised
    // in one call (the catch-up test below).
    let n = 0;
    for (const size of [3, 4, 3, 5, 2, 4, 4]) {
      n = await ingest(s, [size], n);
      await settle(P, s);
    }
    expect(world.llm.calls).toBe(2);
    expect(world.llm.prompts[0]!.match(/^\d+\. \[/gm)).toHaveLength(10);
    expect(world.llm.prompts[1]!.match(/^\d+\. \[/gm)).toHaveLength(11);
    expect(actionsIn(world.llm.prompts[1]!)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    // Rolling mode (the default): the second prompt builds on the first summary.
    expect(world.llm.prompts[1]).toContain("Summary #1");
    const { body } = await getState(P, s);
    expect(body.open_window).toEqual({ id: 3, actions: 4 });
    expect(body.counters).toMatchObject({ actions_accepted: 25, summaries: 2, llm_calls: 2, llm_failures: 0 });
    // The destination holds the latest summary and the raw note of the open window, nothing more.
    expect(world.receiver.live({ type: "context.summary" }).map((n) => n.window)).toEqual([2]);
    expect(world.receiver.live({ type: "context.raw_note" }).flatMap((n) => actionsIn(n.text))).toEqual([21, 22, 23, 24]);
  });
});

describe("catch-up", () => {
  it("windows that pile up behind a slow LLM are summarised together, fewer calls than windows, every action covered once", async () => {
    const s = uniqueSession();
    world.latencyMs.llm = 200;
    await ingest(s, Array.from({ length: 30 }, () => 10)); // 30 windows while the first call is out
    await settle(P, s);
    expect(world.llm.calls).toBeGreaterThanOrEqual(2);
    expect(world.llm.calls).toBeLessThan(30);
    const { body } = await getState(P, s);
    expect(body.windows).toMatchObject({ unsummarised: 0, unposted: 0, covered_through: 30 });
    // One rolling summary covers all 300 actions; every raw note it covers is redacted.
    expect(world.receiver.live({ type: "context.summary" }).map((n) => n.window)).toEqual([30]);
    expect(world.receiver.live({ type: "context.raw_note" })).toEqual([]);
  });
});

describe("summary first", () => {
  it("posts the summary before redacting, and never redacts a note posted while the LLM call was in flight", async () => {
    const s = uniqueSession();
    world.latencyMs.llm = 250;
    await ingest(s, [10]);
    const draining = settle(P, s);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the LLM call is now in flight
    await ingest(s, [2], 10);
    await draining;
    await settle(P, s);
    const order = world.events.filter((e) => e.kind !== "llm").map((e) => `${e.kind}:${world.receiver.notes.get(e.id)!.type}`);
    const summaryAt = order.indexOf("post:context.summary");
    const firstRedact = order.findIndex((e) => e.startsWith("redact"));
    expect(summaryAt).toBeGreaterThanOrEqual(0);
    expect(firstRedact).toBeGreaterThan(summaryAt);
    const live = world.receiver.live({ type: "context.raw_note" });
    expect(live.flatMap((n) => actionsIn(n.text))).toEqual([10, 11]);
  });
});

describe("a failing destination loses nothing and recovers", () => {
  it.each([
    ["on the raw note", ["500"]],
    ["on the summary note", ["ok", "500"]],
    ["on the redaction", ["ok", "ok", "429"]],
  ] as const)("%s", async (_label, faults) => {
    const s = uniqueSession();
    script.failDest(...faults);
    await ingest(s, [10]);
    await settle(P, s);
    let { body } = await getState(P, s);
    expect(body.step.last_error).toMatch(/webhook answered (500|429)/);
    expect(body.step.parked).toBe(false);
    // Meanwhile the context is intact: no action is both unsent and unsummarised.
    const redacted = [...world.receiver.notes.values()].filter((n) => n.redacted);
    expect(redacted).toHaveLength(0);
    await makeStepsDue(P, s);
    await settle(P, s);
    ({ body } = await getState(P, s));
    expect(body.step).toBeNull();
    expect(world.receiver.live().map((n) => n.type)).toEqual(["context.summary"]);
    expect(body.counters).toMatchObject({ raw_notes_posted: 1, summary_notes_posted: 1, redactions: 1 });
  });

  it("parks a step after STEP_MAX_ATTEMPTS failures, visibly, and a flush tries again", async () => {
    const s = uniqueSession();
    script.failDest(...Array(8).fill("500"));
    await ingest(s, [2]);
    for (let i = 0; i < 8; i++) {
      await settle(P, s);
      await makeStepsDue(P, s);
    }
    let { body } = await getState(P, s);
    expect(body.step).toMatchObject({ kind: "deliver", attempts: 8, parked: true });
    expect(body.pending.actions).toBe(0); // prepared into the in-flight note, not lost
    const res = await stubFor(P, s).flush();
    expect(res).toEqual({ closed_window: true });
    await settle(P, s);
    ({ body } = await getState(P, s));
    expect(body.step).toBeNull();
    expect(world.receiver.live().map((n) => n.type)).toEqual(["context.summary"]);
  });
});

describe("a pacing destination", () => {
  it("429s wait as told (Retry-After) but never park the step, however many", async () => {
    const s = uniqueSession();
    script.failDest(...Array(12).fill("429"));
    await ingest(s, [2]);
    for (let i = 0; i < 12; i++) {
      await settle(P, s);
      await makeStepsDue(P, s);
    }
    let { body } = await getState(P, s);
    expect(body.step).toMatchObject({ kind: "deliver", attempts: 0, parked: false });
    expect(body.step.last_error).toMatch(/429/);
    await settle(P, s);
    ({ body } = await getState(P, s));
    expect(body.step).toBeNull();
    expect(body.counters.raw_notes_posted).toBe(1);
  });
});

describe("a failing LLM never causes a redaction", () => {
  it.each([["an error", "500"], ["a timeout", "slow"], ["empty text", "empty"], ["an error string", "error-text"]] as const)(
    "%s",
    async (_label, fault) => {
      const s = uniqueSession();
      script.failLlm(fault);
      await ingest(s, [10]);
      await settle(P, s);
      let { body } = await getState(P, s);
      expect(world.events.filter((e) => e.kind === "redact")).toHaveLength(0);
      expect(world.receiver.live().map((n) => n.type)).toEqual(["context.raw_note"]);
      expect(body.latest_summary).toBeNull();
      expect(body.step.kind).toBe("summarise");
      expect(body.step.last_error).toMatch(fault === "slow" ? /timed out/ : fault === "500" ? /LLM answered 500/ : /summary rejected/);
      await makeStepsDue(P, s);
      await settle(P, s);
      ({ body } = await getState(P, s));
      expect(body.step).toBeNull();
      expect(world.receiver.live().map((n) => n.type)).toEqual(["context.summary"]);
    },
  );
});

/**
 * Lets each alarm run make one request: the next one hangs as if the actor died there, and the
 * test evicts the actor at that await (before the request lands), so every step is followed by
 * an eviction.
 */
const steps = {
  left: Infinity,
  allow(n: number) {
    steps.left = n;
  },
  source(inner: FaultSource): FaultSource {
    return {
      dest: (call) => (steps.left-- > 0 ? inner.dest(call) : "crash-lost"),
      llm: (call) => (steps.left-- > 0 ? inner.llm(call) : "crash"),
    };
  },
};

/** Runs the session one step per alarm run, evicting it after each, until it rests. */
async function oneStepPerRun(s: string): Promise<void> {
  for (let run = 0; run < 40; run++) {
    const settled = settle(P, s).then(
      () => "rest" as const,
      () => "crashed" as const,
    );
    let outcome: "rest" | "crashed" | "hung" | null = null;
    while (outcome === null) {
      outcome = await Promise.race([settled, sleep(5).then(() => null)]);
      if (world.hung.size > 0) outcome = "hung";
    }
    if (outcome === "hung") {
      world.hung.clear();
      await crash(P, s);
      await settled;
      steps.allow(1);
      await retryAlarm(P, s);
      continue;
    }
    const { body } = await getState(P, s);
    if (body.steps.length === 0) return;
    steps.allow(1);
    await makeStepsDue(P, s);
  }
  throw new Error(`session ${s} did not rest after 40 runs`);
}

describe("exactly once across eviction and lost answers", () => {
  it("evicting the actor between every step, with answers lost after delivery, duplicates no note", { timeout: 30_000 }, async () => {
    const s = uniqueSession();
    world.faults = steps.source(script);
    steps.allow(1);
    script.failDest("timeout-landed", "ok", "timeout-landed", "ok", "timeout-lost");
    let n = 0;
    for (const size of [4, 3, 5, 2, 6, 1, 4]) {
      n = await ingest(s, [size], n);
      await oneStepPerRun(s);
    }
    steps.allow(Infinity);
    await stubFor(P, s).flush();
    await settle(P, s);
    const raw = [...world.receiver.notes.values()].filter((x) => x.type === "context.raw_note");
    const delivered = raw.flatMap((x) => actionsIn(x.text)).sort((a, b) => a - b);
    expect(delivered).toEqual(Array.from({ length: n }, (_, i) => i)); // each action in exactly one raw note
    expect(world.receiver.live().map((x) => x.type)).toEqual(["context.summary"]);
    const { body } = await getState(P, s);
    expect(body.counters.actions_accepted).toBe(n);
  });
});
