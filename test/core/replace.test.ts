/**
 * DELIVERY=replace on the real core (node:sqlite): a lane keeps one context message, rewritten on
 * every burst and every summary; an edit never drops a raw action its own summary does not cover;
 * no redaction is ever made; the message never goes back to an older summary; faults (retries, lost
 * answers) leave one message holding everything.
 */
import { describe, expect, it } from "vitest";
import { parseCore } from "../../src/config";
import { REPLACE_NEEDS_ROLLING } from "../../src/config/destination";
import type { ContextMessage, Destination } from "../../src/destinations/types";
import { done, retry } from "../../src/result";
import { migrate } from "../../src/session/migrations";
import { SessionCore } from "../../src/session/sessionCore";
import { SessionStore } from "../../src/session/sessionStore";
import { createNodeStorage } from "./support/nodeStorage";
import { titledBatch, titles, TIMINGS } from "./support/titledSession";
import { rng } from "./support/simulation";

const ENTRY = JSON.stringify({ type: "webhook", url: "https://a.test/hook", secret: { env: "S" }, delivery: "replace" });

/** A destination that can edit: the one message it holds, and every edit in arrival order. */
class Board implements Destination {
  readonly name = "webhook";
  readonly needsLink = false;
  message: { partId: string; context: ContextMessage } | null = null;
  readonly edits: ContextMessage[] = [];
  readonly violations: string[] = [];
  redactions = 0;
  /** Next answers: "ok", "retry" (nothing happened), "lost" (it happened, the answer was lost). */
  faults: ("ok" | "retry" | "lost")[] = [];

  async post() {
    this.violations.push("a replace lane posted a note");
    return done({ partId: "x" });
  }

  async redact() {
    this.redactions += 1;
    return done();
  }

  /** As Slack's marker lookup: the context message, if one with this key is there. */
  async find(_s: unknown, note: { key: string }) {
    return done({ partId: this.message?.context.key === note.key ? this.message.partId : null });
  }

  async replace(_s: unknown, context: ContextMessage, partId: string | null) {
    const fault = this.faults.shift() ?? "ok";
    if (fault === "retry") return retry("503");
    if (partId === null && this.message) this.violations.push("a second context message was created");
    if (partId !== null && partId !== this.message?.partId) this.violations.push(`edit of unknown message ${partId}`);
    // Summary first: every raw action of the message before is still raw, or named by this text's summary.
    const before = this.message ? holds({ ...this.message.context, summary: null }) : new Set<string>();
    const after = holds(context);
    const dropped = [...before].filter((t) => !after.has(t));
    if (dropped.length) this.violations.push(`edit ${context.editKey} dropped ${dropped.join(", ")}`);
    // The message never goes back: an edit made after a summary edit whose answer was lost still shows it.
    const shownWindow = this.message?.context.summary?.window ?? 0;
    if ((context.summary?.window ?? 0) < shownWindow) this.violations.push(`edit ${context.editKey} took back the summary of window ${shownWindow}`);
    this.message = { partId: this.message?.partId ?? "m1", context };
    this.edits.push(context);
    return fault === "lost" ? retry("timed out", { unknownOutcome: true }) : done({ partId: this.message.partId });
  }
}

/** Every action title the message shows: raw, or named by its summary. */
function holds(context: ContextMessage): Set<string> {
  const words = [context.summary?.text ?? "", ...context.raw.map((n) => n.text)].join(" ").split(/\s+/);
  return new Set(words.filter((w) => /^t\d+$/.test(w)));
}

function session(board: Board, mode: "rolling" | "independent" = "rolling") {
  const storage = createNodeStorage();
  migrate(storage);
  const store = new SessionStore(storage);
  let now = 1_700_000_000_000;
  const core = new SessionCore(
    {
      store,
      config: parseCore({ SUMMARY_THRESHOLD: "3", SUMMARY_MODE: mode, STEP_MAX_ATTEMPTS: "100" }),
      laneEntries: [ENTRY],
      destination: () => board,
      summariser: titles,
      now: () => now,
      random: () => 0.5,
      log: () => {},
    },
    TIMINGS,
  );
  let n = 0;
  return {
    store,
    ingest(count: number) {
      n += count;
      core.ingest(titledBatch(n - count, count), { kind: "content", key: `k${n}` }, now);
    },
    async settle(rounds = 200) {
      for (let i = 0; i < rounds; i++) {
        await core.drain(50);
        const at = core.nextAlarm(now);
        // Backoffs and the pace, not the idle close (30 min).
        if (at === null || at > now + 60_000) return;
        now = Math.max(now + 1, at);
      }
    },
    titles: () => Array.from({ length: n }, (_, i) => `t${i}`),
  };
}

describe("DELIVERY=replace", () => {
  it("keeps one message, edited once per burst and once per summary: the latest summary, then the raw since", async () => {
    const board = new Board();
    const sim = session(board);
    for (const count of [2, 2, 1]) {
      sim.ingest(count);
      await sim.settle();
    }
    // K=3: bursts of 2 and 2 close window 1 (4 actions); the third burst opens window 2.
    expect(board.edits.map((e) => [e.summary?.window ?? null, e.raw.length])).toEqual([
      [null, 1],
      [null, 2],
      [1, 0],
      [1, 1],
    ]);
    expect(board.message!.context.summary!.text).toBe("t0 t1 t2 t3");
    expect(board.message!.context.raw[0]).toMatchObject({ text: expect.stringContaining("t4"), window: 2 });
    expect(board.edits.map((e) => e.adds)).toEqual(["raw", "raw", "summary", "raw"]);
    expect(board.redactions).toBe(0);
    expect(board.violations).toEqual([]);
    // The lane keeps only what the message shows.
    expect(sim.store.liveNotes().map((n) => n.kind)).toEqual(["summary", "raw"]);
  });

  it("refuses independent summaries: the step parks saying replace needs rolling, and nothing is written", async () => {
    const board = new Board();
    const sim = session(board, "independent");
    sim.ingest(2);
    await sim.settle();
    expect(board.edits).toHaveLength(0);
    expect(sim.store.steps().find((r) => r.parked_at !== null)?.last_error).toBe(REPLACE_NEEDS_ROLLING);
  });

  it.each(["rolling"] as const)("under retries and lost answers (%s), one message, never missing an action, rows bounded", async (mode) => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = rng(seed);
      const board = new Board();
      const sim = session(board, mode);
      for (let burst = 0; burst < 40; burst++) {
        board.faults = Array.from({ length: 3 }, () => (["ok", "ok", "retry", "lost"] as const)[Math.floor(random() * 4)]!);
        sim.ingest(1 + Math.floor(random() * 3));
        // Half the time the next burst comes while a retry still waits (a lost summary edit among them).
        await sim.settle(random() < 0.5 ? 1 : 200);
      }
      board.faults = [];
      await sim.settle();
      expect(board.violations, `seed ${seed}`).toEqual([]);
      expect(board.redactions).toBe(0);
      const shown = holds(board.message!.context);
      expect(sim.titles().filter((t) => !shown.has(t)), `seed ${seed}`).toEqual([]);
      expect(sim.store.liveNotes().length, `seed ${seed}`).toBeLessThanOrEqual(4);
    }
  });
});
