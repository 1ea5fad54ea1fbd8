/**
 * The console's timeline (session/timeline.ts) on the real core (node:sqlite): what arrived, the
 * notes with their part ids, summaries with the windows they cover, redactions read from the rows
 * that remain, and the steps in trouble with their next retry or parked.
 */
import { describe, expect, it } from "vitest";
import { parseCore } from "../../src/config";
import type { Destination } from "../../src/destinations/types";
import type { Summariser } from "../../src/llm/types";
import { done, failed, retry, type Done, type Failed, type Retry } from "../../src/result";
import { migrate } from "../../src/session/migrations";
import { SessionCore } from "../../src/session/sessionCore";
import { SessionStore } from "../../src/session/sessionStore";
import type { SessionTimeline } from "../../src/session/timeline";
import { createNodeStorage } from "./support/nodeStorage";
import { titledBatch, TIMINGS } from "./support/titledSession";

const HOOK = JSON.stringify({ type: "webhook", url: "https://a.test/hook", secret: { env: "S" } });

/** A webhook stand-in answering each post with `answer` (ok by default), part ids p1, p2, … */
function inbox() {
  let next = 1;
  const box = {
    answer: "ok" as "ok" | "retry" | "failed",
    dest: {
      name: "webhook",
      needsLink: false,
      post: async (): Promise<Done<{ partId: string }> | Retry | Failed> =>
        box.answer === "ok" ? done({ partId: `p${next++}` }) : box.answer === "retry" ? retry("webhook answered 503") : failed("webhook answered 400"),
      redact: async () => done(),
    } as unknown as Destination,
  };
  return box;
}

const summariser: Summariser = { name: "titles", extractive: true, summarise: async ({ actions }) => ({ kind: "done", text: actions.map((a) => a.title).join(", ") }) };

function session(lanes: string[], box = inbox()) {
  const storage = createNodeStorage();
  migrate(storage);
  let now = 1_790_000_000_000;
  const core = new SessionCore(
    {
      store: new SessionStore(storage),
      config: parseCore({ SUMMARY_THRESHOLD: "3", STEP_MAX_ATTEMPTS: "2" }),
      laneEntries: lanes,
      destination: () => box.dest,
      summariser,
      now: () => now,
      random: () => 0.5,
      log: () => {},
    },
    TIMINGS,
  );
  let n = 0;
  return {
    core,
    box,
    ingest(count: number, description = "did a thing") {
      n += count;
      now += 1_000;
      core.ingest(titledBatch(n - count, count, { description, timestampStart: 1_790_000_000 }), { kind: "content", key: `k${n}` }, now);
    },
    /** Runs what is due, stepping the clock over backoffs shorter than a minute. */
    async settle() {
      for (let i = 0; i < 50; i++) {
        await core.drain(50);
        const at = core.nextAlarm(now);
        if (at === null || at > now + 60_000) return;
        now = Math.max(now + 1, at);
      }
    },
    timeline: () => core.timeline() as SessionTimeline,
  };
}

const ofType = <T extends SessionTimeline["events"][number]["type"]>(t: SessionTimeline, type: T) =>
  t.events.filter((e): e is Extract<SessionTimeline["events"][number], { type: T }> => e.type === type);

describe("the session timeline", () => {
  it("shows the summary with the windows it covers, the redaction it made, and the live raw note with its part id", async () => {
    const s = session([HOOK]);
    s.ingest(3);
    await s.settle();
    s.ingest(2, "<img src=x onerror=alert(1)>");
    await s.settle();
    const t = s.timeline();
    expect(ofType(t, "summary")).toMatchObject([{ window: 1, covers: { from: 1, to: 1 }, actions: 3, text: "t0, t1, t2", extractive: true }]);
    expect(ofType(t, "redaction")).toMatchObject([{ lane: 1, destination: "webhook", windows: { from: 1, to: 1 }, replaced_by: 1 }]);
    const raw = ofType(t, "note").filter((n) => n.kind === "raw");
    expect(raw).toMatchObject([{ lane: 1, destination: "webhook", window: 2, posted: true, part_id: expect.stringMatching(/^p\d+$/) }]);
    // The batch of window 2 is kept verbatim (escaping is the console's), with the raw note holding it.
    const [batch] = ofType(t, "batch");
    expect(batch).toMatchObject({ window: 2, notes: [{ lane: 1, part_id: raw[0]!.part_id }] });
    expect(batch!.actions.map((a) => a.description)).toEqual(["<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"]);
    expect(batch!.actions[0]!.at).toBe(new Date(1_790_000_003_000).toISOString());
    const times = t.events.map((e) => e.at ?? "");
    expect(times).toEqual([...times].sort());
    expect(t.steps).toEqual([]);
    expect(t.lanes).toEqual([{ id: 1, destination: "webhook", covered_through: 1, redactions: 1, step_failures: 0 }]);
  });

  it("shows a failing step with its error and next retry, then parked with no retry of its own", async () => {
    const s = session([HOOK]);
    s.box.answer = "retry";
    s.ingest(2);
    await s.core.drain(50);
    const [retrying] = s.timeline().steps;
    expect(retrying).toMatchObject({ kind: "deliver", attempts: 1, last_error: "webhook answered 503", parked: false, next_attempt_at: expect.any(String) });
    s.box.answer = "failed";
    await s.settle();
    expect(s.timeline().steps).toMatchObject([{ kind: "deliver", attempts: 2, last_error: "webhook answered 400", parked: true, next_attempt_at: null }]);
    expect(ofType(s.timeline(), "note")).toMatchObject([{ kind: "raw", posted: false, part_id: null }]);
  });

  it("with no outbound lane (the store) lists batches only; no session, no timeline", async () => {
    const s = session([]);
    expect(s.core.timeline()).toBeNull();
    s.ingest(2);
    await s.settle();
    const t = s.timeline();
    expect(t.events.map((e) => e.type)).toEqual(["batch"]);
    expect(t.lanes).toEqual([]);
    expect(ofType(t, "batch")[0]!.notes).toEqual([]);
  });
});
