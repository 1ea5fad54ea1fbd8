/**
 * Fan-out (issue 12) as a product sees it through the HTTP API: one session writing to a webhook
 * (the fake world's receiver) and to Intercom (the emulator), each destination its own lane. One
 * lane failing for minutes (5xx, a 401, a timed-out call; the backoff elapses by `makeStepsDue`) or
 * hanging on a call never holds the other back, and once it recovers it catches up with every
 * invariant on its own; a destination added mid-session starts from the current context; one
 * removed stops there.
 * Runs in the workers-products project (STEP_MAX_ATTEMPTS=2, so a failing step parks quickly).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { action, auth, getState, makeStepsDue, postActions, request, sessionPath, settle, uniqueSession } from "./helpers/api";
import { EMULATOR_ADMIN_ID, IntercomEmulator } from "./helpers/intercomEmulator";
import { intercomLog, laneProblems, live, liveCoverage, rawTokens, webhookLog, type LaneLog } from "./helpers/laneLog";
import { json, projectSecrets, putSettings, sleep } from "./helpers/products";
import { createWorld, type World } from "./world";
import { scriptedFaults } from "./world/faults";
import { Ledger, token } from "./world/ledger";

const INTERCOM_HOST = "intercom.test";
const webhook = { type: "webhook", url: "https://hooks.test/fanout", secret: { env: "WEBHOOK_SECRET_B" } };
const intercom = { type: "intercom", access_token: { env: "INTERCOM_TOKEN_ACME" }, admin_id: EMULATOR_ADMIN_ID, api_base: `https://${INTERCOM_HOST}` };
const K = 4;

let world: World;
let faults: ReturnType<typeof scriptedFaults>;
let ledger: Ledger;
let emulator: IntercomEmulator;

beforeEach(() => {
  ledger = new Ledger();
  faults = scriptedFaults();
  world = createWorld({ secret: projectSecrets.WEBHOOK_SECRET_B, ledger, faults });
  emulator = new IntercomEmulator({ limitPerWindow: 100_000 });
  // Intercom calls go to the emulator, everything else (the webhook, the LLM) to the world.
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) =>
    new URL(new Request(input, init).url).host === INTERCOM_HOST ? emulator.fetch(input, init) : world.fetch(input, init),
  );
});
afterEach(() => {
  vi.restoreAllMocks();
  expect(world.violations).toEqual([]);
});

let sessions = 0;
/** A product with these destinations and K = 4, and a session of it linked to a new conversation. */
async function start(destinations: unknown[]) {
  const p = uniqueSession("fanout");
  const s = uniqueSession();
  expect((await putSettings(p, { threshold: K, destinations })).status).toBe(200);
  const conversation = emulator.createConversation();
  const linked = await request(sessionPath(p, s, "/link"), { method: "PUT", headers: auth, body: JSON.stringify({ conversation_id: conversation }) });
  expect(linked.status).toBe(200);
  sessions += 1;
  const index = sessions;
  const actor = `${p}:${s}`;
  return {
    p,
    s,
    /** Sends actions `from`…`from + count - 1` as one batch, each carrying its ledger token. */
    async ingest(from: number, count: number) {
      const tokens = Array.from({ length: count }, (_, i) => token(index, from + i));
      ledger.sent(tokens, actor);
      const res = await postActions({ type: "actions", product_id: p, session_id: s, actions: tokens.map((t, i) => action(from + i, { description: `User did ${t}` })) });
      expect(res.status).toBe(202);
      ledger.accepted(tokens);
    },
    tokens: (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => token(index, from + i)),
    accepted: () => ledger.acceptedFor(actor),
    hook: () => webhookLog(world, actor),
    intercom: () => intercomLog(emulator, conversation),
    settle: () => settle(p, s),
    /** Minutes pass: every step waiting out a backoff or parked is tried again now. */
    async later() {
      await makeStepsDue(p, s);
      await settle(p, s);
    },
    state: async () => (await getState(p, s)).body,
  };
}

type Lane = { id: number; destination: string; covered_through: number; pending: { actions: number; since: string | null }; notes: { part_id: string }[]; step: Record<string, unknown> | null; counters: Record<string, number> };
const laneOf = (state: { lanes: Lane[] }, destination: string) => {
  const lanes = state.lanes.filter((l) => l.destination === destination);
  expect(lanes).toHaveLength(1);
  return lanes[0]!;
};
const ids = (log: LaneLog) => live(log).map((n) => n.id).sort();
const partIds = (lane: Lane) => lane.notes.map((n) => n.part_id).sort();

describe("two destinations, one failing for minutes", () => {
  it("the Intercom lane stays current while the webhook fails; then the webhook catches up, each once, summary first", async () => {
    const x = await start([webhook, intercom]);
    /** Intercom holds the whole context now: everything accepted is live raw or covered, each once. */
    const intercomIsCurrent = () => expect(laneProblems(x.intercom(), x.accepted())).toEqual([]);

    faults.failDest("500");
    await x.ingest(0, 2);
    await x.settle();
    intercomIsCurrent();
    faults.failDest("503");
    await x.later();
    let state = await x.state();
    expect(laneOf(state, "webhook").step).toMatchObject({ kind: "deliver", attempts: 2, parked: true, last_error: expect.stringMatching(/503/) });
    expect(laneOf(state, "intercom").step).toBeNull();

    // Window 1 closes: Intercom gets its summary and redacts the raw notes it covers.
    await x.ingest(2, 2);
    await x.settle();
    intercomIsCurrent();
    expect(live(x.intercom(), "summary").map((n) => n.window)).toEqual([1]);
    expect(live(x.intercom(), "raw")).toEqual([]);

    faults.failDest("401");
    await x.later();
    state = await x.state();
    expect(laneOf(state, "webhook").step).toMatchObject({ parked: true, last_error: expect.stringMatching(/401/) });

    for (let i = 4; i < 10; i += 2) {
      await x.ingest(i, 2);
      await x.settle();
      intercomIsCurrent();
    }
    faults.failDest("timeout-lost");
    await x.later();
    state = await x.state();
    const failing = laneOf(state, "webhook");
    expect(failing.step).toMatchObject({ parked: true, last_error: expect.stringMatching(/timed out/) });
    expect(failing.counters.step_failures).toBe(4);
    expect(failing.counters.raw_notes_posted).toBe(0);
    expect(failing.covered_through).toBe(0);
    // Actions 2-9 wait for this lane (0-1 are in its note in flight), since the batch of action 2 arrived.
    expect(failing.pending).toEqual({ actions: 8, since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(state.pending).toEqual(failing.pending);
    const current = laneOf(state, "intercom");
    expect(current).toMatchObject({ step: null, covered_through: 2, pending: { actions: 0, since: null }, counters: { step_failures: 0, summary_notes_posted: 2 } });
    expect(partIds(current)).toEqual(ids(x.intercom()));
    expect(live(x.intercom(), "summary").map((n) => n.window)).toEqual([2]);
    expect(rawTokens(x.intercom())).toEqual(x.tokens(0, 9));
    // Nothing reached the webhook: the 500, 503, 401 and timeout were all lost requests.
    expect(x.hook().events).toEqual([]);

    // It recovers: the webhook catches up on its own; the Intercom lane has nothing more to do.
    const intercomCalls = emulator.calls.length;
    await x.later();
    expect(emulator.calls.length).toBe(intercomCalls);
    for (const log of [x.hook(), x.intercom()]) {
      expect(laneProblems(log, x.accepted())).toEqual([]);
      // Summary first: the lane's first summary came before its first redaction.
      const firstRedact = log.events.findIndex((e) => e.kind === "redact");
      expect(firstRedact).toBeGreaterThan(log.events.findIndex((e) => e.kind === "post" && e.note.kind === "summary"));
      expect(liveCoverage(log)).toEqual(new Set(x.tokens(0, 7)));
      expect(live(log, "raw").flatMap((n) => n.tokens)).toEqual(x.tokens(8, 9));
    }
    state = await x.state();
    expect(state.lanes).toHaveLength(2);
    for (const [destination, log] of [["webhook", x.hook()], ["intercom", x.intercom()]] as const) {
      const lane = laneOf(state, destination);
      expect(lane).toMatchObject({ step: null, covered_through: 2 });
      expect(partIds(lane)).toEqual(ids(log));
      expect(lane.counters.redactions).toBe(log.events.filter((e) => e.kind === "redact").length);
    }
    // The top level lists every lane's live notes, each naming its lane, and sums the counters.
    const byLane = new Map(state.lanes.map((l: Lane) => [l.id, partIds(l)]));
    expect(state.notes).toHaveLength(ids(x.hook()).length + ids(x.intercom()).length);
    for (const n of state.notes as { lane: number; part_id: string }[]) expect(byLane.get(n.lane)).toContain(n.part_id);
    for (const counter of ["raw_notes_posted", "summary_notes_posted", "redactions", "step_failures"]) {
      expect(state.counters[counter]).toBe(state.lanes.reduce((sum: number, l: Lane) => sum + l.counters[counter]!, 0));
    }

    // Both current again: window 3 goes to each, and each redacts what it covers.
    await x.ingest(10, 2);
    await x.settle();
    for (const log of [x.hook(), x.intercom()]) {
      expect(laneProblems(log, x.accepted())).toEqual([]);
      expect(live(log).map((n) => [n.kind, n.window])).toEqual([["summary", 3]]);
    }
  });

  it("a webhook call that hangs holds back only its own lane: Intercom gets the note meanwhile", async () => {
    const x = await start([webhook, intercom]);
    const release = world.hold("dest");
    try {
      await x.ingest(0, 2);
      // The ingest started the lanes itself; the webhook's call waits on the hold, under its timeout.
      const deadline = Date.now() + 3_000;
      while (x.intercom().events.length === 0 && Date.now() < deadline) await sleep(10);
      expect(rawTokens(x.intercom())).toEqual(x.tokens(0, 1));
      expect([...world.inFlight.values()].some((what) => what.includes("webhook"))).toBe(true);
      expect(x.hook().events).toEqual([]);
    } finally {
      release();
    }
    await x.settle();
    for (const log of [x.hook(), x.intercom()]) expect(rawTokens(log)).toEqual(x.tokens(0, 1));
    expect(laneProblems(x.hook(), x.accepted())).toEqual([]);
  });
});

describe("destinations changed mid-session", () => {
  it("a destination added starts from the current context: the latest summary, then the raw actions since", async () => {
    const x = await start([intercom]);
    for (let i = 0; i < 10; i++) {
      await x.ingest(i, 1);
      await x.settle();
    }
    expect(live(x.intercom(), "summary").map((n) => n.window)).toEqual([2]);

    expect((await putSettings(x.p, { threshold: K, destinations: [intercom, webhook] })).status).toBe(200);
    await x.ingest(10, 1);
    await x.settle();
    const hook = x.hook();
    // The summary of window 2 (covering actions 0-7) and actions 8-10 raw; never the older raw notes.
    expect(hook.events.map((e) => (e.kind === "post" ? e.note.kind : e.kind)).sort()).toEqual(["raw", "summary"]);
    expect(liveCoverage(hook)).toEqual(new Set(x.tokens(0, 7)));
    expect(rawTokens(hook)).toEqual(x.tokens(8, 10));
    expect(laneProblems(hook, x.accepted())).toEqual([]);
    expect(laneOf(await x.state(), "webhook")).toMatchObject({ covered_through: 2, step: null });

    // Both lanes go on together: window 3 is summarised once and posted to each, then redacted in each.
    const llmCalls = world.llm.calls;
    await x.ingest(11, 1);
    await x.settle();
    expect(world.llm.calls).toBe(llmCalls + 1);
    for (const log of [x.hook(), x.intercom()]) {
      expect(laneProblems(log, x.accepted())).toEqual([]);
      expect(live(log).map((n) => [n.kind, n.window])).toEqual([["summary", 3]]);
    }
  });

  it("a destination removed stops: nothing more is sent there, what it holds stays, its lane leaves the state", async () => {
    const x = await start([webhook, intercom]);
    for (let i = 0; i < 6; i++) {
      await x.ingest(i, 1);
      await x.settle();
    }
    const before = await x.state();
    const removed = laneOf(before, "intercom");
    const held = x.intercom();
    expect(live(held).map((n) => n.kind)).toEqual(["summary", "raw", "raw"]);
    const intercomCalls = emulator.calls.length;

    expect((await putSettings(x.p, { threshold: K, destinations: [webhook] })).status).toBe(200);
    for (let i = 6; i < 8; i++) {
      await x.ingest(i, 1);
      await x.settle();
    }
    // Window 2 closed and was summarised: the webhook got it and redacted its raw notes; Intercom got nothing.
    expect(emulator.calls.length).toBe(intercomCalls);
    expect(x.intercom()).toEqual(held);
    const hook = x.hook();
    expect(laneProblems(hook, x.accepted())).toEqual([]);
    expect(live(hook).map((n) => [n.kind, n.window])).toEqual([["summary", 2]]);

    const state = await x.state();
    expect(state.lanes.map((l: Lane) => l.destination)).toEqual(["webhook"]);
    expect(state.lanes.map((l: Lane) => l.id)).not.toContain(removed.id);
    expect(state.notes.map((n: { lane: number }) => n.lane)).not.toContain(removed.id);
    expect(state.steps.map((r: { key: string }) => r.key).join(" ")).not.toMatch(new RegExp(`:${removed.id}:`));
  });
});

describe("bad destination lists", () => {
  const other = { ...webhook, url: "https://hooks.test/other" };
  it.each([
    ["more than four destinations", [webhook, intercom, other, { ...webhook, url: "https://hooks.test/3" }, { ...webhook, url: "https://hooks.test/4" }], /destinations holds at most 4 entries/],
    ["the same destination twice", [webhook, intercom, { ...webhook }], /destinations must not repeat an entry/],
    ["no destination", [], /destinations holds at least one entry/],
  ])("refuses %s with 422 and a clear message, and changes nothing", async (_label, destinations, message) => {
    const p = uniqueSession("bad-lanes");
    expect((await putSettings(p, { threshold: K, destinations: [webhook, intercom] })).status).toBe(200);
    const res = await json(await putSettings(p, { threshold: K, destinations }));
    expect(res).toMatchObject({ status: 422, body: { error: { code: "invalid_settings", message: expect.stringMatching(message) } } });
    expect((await json(await request(`/v1/products/${p}`, { headers: auth }))).body.settings).toEqual({ threshold: K, destinations: [webhook, intercom] });
  });
});
