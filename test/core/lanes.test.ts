/**
 * Fan-out on the real core (node:sqlite): two outbound destinations, each its own lane. One lane
 * failing never holds back the other; every lane keeps summary first, exactly once and order on
 * its own; what a lane down for long keeps stays bounded; lanes added and removed mid-session.
 */
import { describe, expect, it } from "vitest";
import { parseCore } from "../../src/config";
import type { Destination, OutgoingNote } from "../../src/destinations/types";
import { done, retry } from "../../src/result";
import { LANE_MAX_LAG_WINDOWS, rawFloor, summariesToPost } from "../../src/session/lanes";
import { migrate } from "../../src/session/migrations";
import { SessionCore } from "../../src/session/sessionCore";
import { SessionStore } from "../../src/session/sessionStore";
import { createNodeStorage } from "./support/nodeStorage";
import { titledBatch, titles, TIMINGS } from "./support/titledSession";

const A = JSON.stringify({ type: "webhook", url: "https://a.test/hook", secret: { env: "S" } });
const B = JSON.stringify({ type: "webhook", url: "https://b.test/hook", secret: { env: "S" } });

/** An in-memory destination: what it holds now, and every post in arrival order. */
class Inbox implements Destination {
  readonly name = "webhook";
  readonly needsLink = false;
  down = false;
  /** While set, a post waits until it is released (a slow destination). */
  private hold: Promise<void> | null = null;
  private release: (() => void) | null = null;
  private next = 1;
  readonly live = new Map<string, OutgoingNote>();
  readonly posts: OutgoingNote[] = [];
  readonly violations: string[] = [];

  slow(): () => void {
    this.hold = new Promise((resolve) => (this.release = resolve));
    return () => {
      this.hold = null;
      this.release?.();
    };
  }

  async post(_s: unknown, note: OutgoingNote) {
    if (this.hold) await this.hold;
    if (this.down) return retry("503");
    if ([...this.live.values()].some((n) => n.key === note.key)) this.violations.push(`posted twice: ${note.key}`);
    const partId = `p${this.next++}`;
    this.live.set(partId, note);
    this.posts.push(note);
    return done({ partId });
  }

  async redact(_s: unknown, part: { partId: string }) {
    if (this.down) return retry("503");
    const note = this.live.get(part.partId);
    // Summary first: a raw note goes only once a live summary covers its window.
    if (note?.kind === "raw" && ![...this.live.values()].some((n) => n.kind === "summary" && n.window >= note.window)) {
      this.violations.push(`raw note of window ${note.window} redacted before its summary`);
    }
    this.live.delete(part.partId);
    return done();
  }

  /** Every action title the destination holds raw, or that a live summary holds. */
  holds(): string[] {
    return [...this.live.values()].flatMap((n) => (n.kind === "raw" ? n.actions.map((a) => a.title) : (n.summary ?? "").split(/\s+/)));
  }
}


function session(mode: "rolling" | "independent", laneEntries: string[], inboxes: Record<string, Inbox>, storage = createNodeStorage()) {
  migrate(storage);
  const store = new SessionStore(storage);
  let now = 1_700_000_000_000;
  const make = (entries: string[]) =>
    new SessionCore(
      {
        store,
        config: parseCore({ SUMMARY_THRESHOLD: "3", SUMMARY_MODE: mode, STEP_MAX_ATTEMPTS: "100" }),
        laneEntries: entries,
        destination: (entry) => inboxes[entry]!,
        summariser: titles,
        now: () => now,
        random: () => 0.5,
        log: () => {},
      },
      TIMINGS,
    );
  let core = make(laneEntries);
  let n = 0;
  return {
    store,
    storage,
    get core() {
      return core;
    },
    /** The product's destinations changed: the actor builds its core again. */
    reconfigure(entries: string[]) {
      core = make(entries);
    },
    ingest(count: number) {
      n += count;
      core.ingest(titledBatch(n - count, count), { kind: "content", key: `k${n}` }, now);
    },
    /** Runs the alarm until nothing is due, jumping over backoffs (at most `rounds` times). */
    async settle(rounds = 200) {
      for (let i = 0; i < rounds; i++) {
        await core.drain(50);
        const at = core.nextAlarm(now);
        if (at === null || at > now + 3_600_000) return;
        now = Math.max(now + 1, at);
      }
    },
    titles: () => Array.from({ length: n }, (_, i) => `t${i}`),
    flush: () => core.flush(now),
  };
}

describe("lanes (pure)", () => {
  it("a lane posts every summary it missed in independent mode, only the newest in rolling", () => {
    expect(summariesToPost({ covered: 2 }, [1, 2, 3, 4], [], false)).toEqual([3, 4]);
    expect(summariesToPost({ covered: 2 }, [1, 2, 3, 4], [], true)).toEqual([4]);
    expect(summariesToPost({ covered: 4 }, [3, 4], [], false)).toEqual([]);
  });

  it("past the lag bound a lane skips the oldest summaries, except those covering raw notes it holds", () => {
    const summarised = Array.from({ length: 50 }, (_, i) => i + 1);
    const posts = summariesToPost({ covered: 2 }, summarised, [4], false);
    expect(posts[0]).toBe(4);
    expect(posts.slice(1)).toEqual(summarised.filter((w) => w > 50 - LANE_MAX_LAG_WINDOWS));
    expect(rawFloor({ covered: 2 }, 50)).toBe(50 - LANE_MAX_LAG_WINDOWS);
    // A catch-up summary stored on window 9 covers a raw note of window 6.
    expect(summariesToPost({ covered: 5 }, [9], [6], false)).toEqual([9]);
  });
});

describe.each(["rolling", "independent"] as const)("two destinations (%s)", (mode) => {
  it("one failing for long never holds back the other; on recovery each gets every note once, in order, summary first", async () => {
    const inboxes = { [A]: new Inbox(), [B]: new Inbox() };
    const sim = session(mode, [A, B], inboxes);
    inboxes[A]!.down = true;
    for (let i = 0; i < 10; i++) {
      sim.ingest(2);
      await sim.settle(20);
    }
    // B is current: it holds every action raw or in a live summary; A got nothing.
    const b = inboxes[B]!;
    expect(sim.titles().filter((t) => !b.holds().includes(t))).toEqual([]);
    expect(b.posts.some((n) => n.kind === "summary")).toBe(true);
    expect(inboxes[A]!.posts).toEqual([]);
    const state = sim.core.state(null, "webhook+webhook")!;
    expect(state.lanes.map((l) => ({ id: l.id, failing: l.step !== null }))).toEqual([
      { id: 1, failing: true },
      { id: 2, failing: false },
    ]);

    inboxes[A]!.down = false;
    sim.flush();
    await sim.settle();
    for (const inbox of Object.values(inboxes)) {
      expect(inbox.violations).toEqual([]);
      expect(sim.titles().filter((t) => !inbox.holds().includes(t))).toEqual([]);
      // Raw notes in arrival order, each action once.
      const raw = inbox.posts.filter((n) => n.kind === "raw").flatMap((n) => n.actions.map((a) => a.title));
      expect(raw).toEqual(sim.titles());
      expect([...inbox.live.values()].filter((n) => n.kind === "raw")).toEqual([]);
    }
    expect(sim.core.state(null, "")!.steps).toEqual([]);
  });

  it("a destination added mid-session starts from the current context; one removed is sent nothing more and keeps what it holds", async () => {
    const inboxes = { [A]: new Inbox(), [B]: new Inbox() };
    const sim = session(mode, [A], inboxes);
    for (let i = 0; i < 4; i++) sim.ingest(2);
    await sim.settle();
    const latest = sim.store.latestSummary()!;
    sim.reconfigure([A, B]);
    sim.ingest(1);
    await sim.settle();
    const b = inboxes[B]!;
    // The latest summary (t0-t7), and only the raw actions after it: none of the older raw notes.
    expect(b.posts.filter((n) => n.kind === "summary")[0]!.window).toBe(latest.id);
    expect(b.posts.filter((n) => n.kind === "raw").flatMap((n) => n.actions.map((a) => a.title))).toEqual(["t8"]);
    expect(sim.titles().filter((t) => !b.holds().includes(t))).toEqual([]);

    const heldByB = [...b.live.keys()];
    const sentToB = b.posts.length;
    sim.reconfigure([A]);
    sim.ingest(3);
    await sim.settle();
    expect([...b.live.keys()]).toEqual(heldByB);
    expect(b.posts.length).toBe(sentToB);
    expect(sim.core.state(null, "")!.lanes.map((l) => l.id)).toEqual([1]);
    expect(sim.titles().filter((t) => !inboxes[A]!.holds().includes(t))).toEqual([]);
  });
});

describe("a slow destination", () => {
  it("holds back only its own lane: a batch that arrives meanwhile reaches the other destination at once", async () => {
    const inboxes = { [A]: new Inbox(), [B]: new Inbox() };
    const sim = session("rolling", [A, B], inboxes);
    const release = inboxes[A]!.slow();
    sim.ingest(1);
    const running = sim.core.drain(50); // A's post hangs: this run does not end
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(inboxes[B]!.posts.flatMap((n) => n.actions.map((a) => a.title))).toEqual(["t0"]);
    sim.ingest(1);
    // The request that made work due wakes the run in progress (the actor does this after answering).
    expect(sim.core.wake()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(inboxes[B]!.posts.flatMap((n) => n.actions.map((a) => a.title))).toEqual(["t0", "t1"]);
    expect(inboxes[A]!.posts).toEqual([]);
    release();
    await running;
    await sim.settle();
    expect(inboxes[A]!.posts.filter((n) => n.kind === "raw").flatMap((n) => n.actions.map((a) => a.title))).toEqual(["t0", "t1"]);
    expect(sim.core.wake()).toBe(false);
  });
});

describe("a lane down for long (independent mode)", () => {
  it("keeps its rows bounded, skips the oldest summaries past the lag bound (counted), and catches up summary first", async () => {
    const inboxes = { [A]: new Inbox(), [B]: new Inbox() };
    const sim = session("independent", [A, B], inboxes);
    sim.ingest(3);
    await sim.settle();
    inboxes[A]!.down = true;
    const windows = LANE_MAX_LAG_WINDOWS + 20;
    let most = 0;
    for (let i = 0; i < windows; i++) {
      sim.ingest(3);
      await sim.settle(5);
      most = Math.max(most, sim.store.storageFigures().rows);
    }
    // About one window's batches and one summary per window it may still post, never one per window of history.
    expect(most).toBeLessThanOrEqual(3 * LANE_MAX_LAG_WINDOWS + 20);
    inboxes[A]!.down = false;
    sim.flush();
    await sim.settle();
    const a = inboxes[A]!;
    expect(a.violations).toEqual([]);
    const state = sim.core.state(null, "")!;
    const laneA = state.lanes.find((l) => l.id === 1)!;
    expect(laneA.counters.summaries_skipped).toBeGreaterThan(0);
    expect(laneA.covered_through).toBe(state.windows.covered_through);
    // What A holds now is the recent summaries: the current context and more.
    expect(a.live.size).toBeGreaterThanOrEqual(1);
    expect(inboxes[B]!.violations).toEqual([]);
    expect(state.lanes.find((l) => l.id === 2)!.counters.summaries_skipped).toBe(0);
  });
});
