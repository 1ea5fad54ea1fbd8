/**
 * A whole session run in plain Node: the real SessionCore, SessionStore (on node:sqlite), plan
 * and steps, against a fake destination and a fake summariser that both misbehave on demand.
 * The fake destination keeps what an agent would see, so the invariants can be checked on it.
 */
import { parseCore } from "../../../src/config";
import type { Destination, FindResult, OutgoingNote, PostResult, RedactResult } from "../../../src/destinations/types";
import type { Summariser, SummaryResult } from "../../../src/llm/types";
import { migrate } from "../../../src/session/migrations";
import type { SlimAction } from "../../../src/session/model";
import { SessionCore } from "../../../src/session/sessionCore";
import { SessionStore } from "../../../src/session/sessionStore";
import { mulberry32 } from "../../campaign/prng";
import { createNodeStorage } from "./nodeStorage";

/** Same seeded stream as the fault campaign. */
export const rng = mulberry32;

export type DestFault = "ok" | "retry" | "landed-unknown" | "lost-unknown" | "failed";
export type LlmFault = "ok" | "error" | "empty" | "error-text" | "failed";

interface DestNote {
  partId: string;
  key: string;
  kind: "raw" | "summary";
  window: number;
  actions: string[];
  covers: string[];
  redacted: boolean;
  text: string;
}

const COVERS = /covers:\[([^\]]*)\]/;

/** Parses what a fake summary says it covers (its own window's actions plus, rolling, the previous summary's). */
export function coverage(text: string): string[] {
  return (COVERS.exec(text)?.[1] ?? "")
    .split(",")
    .filter(Boolean)
    .flatMap((range) => {
      const [from, to] = range.split("-").map(Number) as [number, number | undefined];
      return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => `a${from + i}`);
    });
}

/** Action ids as compact ranges ("0-41,57") so a rolling summary's text stays short. */
function ranges(ids: string[]): string {
  const nums = [...new Set(ids.map((a) => Number(a.slice(1))))].sort((x, y) => x - y);
  const out: string[] = [];
  for (let i = 0; i < nums.length; i++) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    out.push(i === j ? `${nums[i]}` : `${nums[i]}-${nums[j]}`);
    i = j;
  }
  return out.join(",");
}

export class FakeDestination implements Destination {
  readonly name = "fake";
  notes: DestNote[] = [];
  violations: string[] = [];
  fault: () => DestFault = () => "ok";
  calls = 0;
  private readonly unknownRedactions = new Set<string>();

  constructor(readonly needsLink = false) {}

  private liveCoverage(): Set<string> {
    return new Set(this.notes.filter((n) => n.kind === "summary" && !n.redacted).flatMap((n) => n.covers));
  }

  private record(note: OutgoingNote): string {
    if (this.notes.some((n) => n.key === note.key)) this.violations.push(`note ${note.key} posted twice`);
    const partId = `part-${this.notes.length + 1}`;
    const last = this.notes.filter((n) => n.kind === note.kind).at(-1);
    if (note.kind === "summary" && last && last.window >= note.window) {
      this.violations.push(`summary for window ${note.window} posted after window ${last.window}`);
    }
    if (note.kind === "summary" && !COVERS.test(note.text)) this.violations.push(`bad summary posted: ${JSON.stringify(note.text)}`);
    this.notes.push({
      partId,
      key: note.key,
      kind: note.kind,
      window: note.window,
      actions: note.actions.map((a) => a.description),
      covers: note.kind === "summary" ? coverage(note.text) : [],
      redacted: false,
      text: note.text,
    });
    return partId;
  }

  async post(_s: unknown, note: OutgoingNote): Promise<PostResult> {
    this.calls += 1;
    const fault = this.fault();
    if (fault === "retry") return { kind: "retry", error: "503" };
    if (fault === "failed") return { kind: "failed", error: "401" };
    if (fault === "lost-unknown") return { kind: "retry", error: "timeout", unknownOutcome: true };
    const partId = this.record(note);
    if (fault === "landed-unknown") return { kind: "retry", error: "timeout", unknownOutcome: true };
    return { kind: "done", partId };
  }

  async find(_s: unknown, note: OutgoingNote): Promise<FindResult> {
    const fault = this.fault();
    if (fault === "retry" || fault === "lost-unknown" || fault === "landed-unknown") return { kind: "retry", error: "503" };
    const found = this.notes.find((n) => n.key === note.key);
    return { kind: "done", partId: found ? found.partId : null };
  }

  async redact(_s: unknown, part: { partId: string }): Promise<RedactResult> {
    this.calls += 1;
    const fault = this.fault();
    if (fault === "retry" || fault === "lost-unknown") return { kind: "retry", error: "503" };
    if (fault === "failed") return { kind: "failed", error: "401" };
    const note = this.notes.find((n) => n.partId === part.partId);
    if (!note) {
      this.violations.push(`redact of unknown part ${part.partId}`);
      return { kind: "done" };
    }
    if (note.redacted) {
      // Repeating a redaction whose answer was lost is legitimate; any other repeat is not.
      if (!this.unknownRedactions.has(part.partId)) this.violations.push(`part ${part.partId} redacted twice`);
      return { kind: "done" };
    }
    // Summary first: what this note holds must already be covered by a live posted summary.
    const covered = this.liveCoverage();
    const holds = note.kind === "raw" ? note.actions : note.covers;
    const others = new Set(this.notes.filter((n) => n.kind === "summary" && !n.redacted && n !== note).flatMap((n) => n.covers));
    const uncovered = holds.filter((a) => !(note.kind === "raw" ? covered : others).has(a));
    if (uncovered.length) this.violations.push(`${note.kind} note ${note.partId} redacted before ${uncovered.join(",")} were covered`);
    note.redacted = true;
    if (fault === "landed-unknown") {
      this.unknownRedactions.add(part.partId);
      return { kind: "retry", error: "timeout" };
    }
    return { kind: "done" };
  }

  live(): DestNote[] {
    return this.notes.filter((n) => !n.redacted);
  }
}

export class FakeLlm implements Summariser {
  readonly name = "fake-llm";
  readonly extractive = false;
  fault: () => LlmFault = () => "ok";
  calls = 0;

  async summarise({ actions, previousSummary }: { actions: SlimAction[]; previousSummary: string | null }): Promise<SummaryResult> {
    this.calls += 1;
    switch (this.fault()) {
      case "error":
        return { kind: "retry", error: "LLM answered 503" };
      case "failed":
        return { kind: "failed", error: "LLM answered 401" };
      case "empty":
        return { kind: "done", text: "   " };
      case "error-text":
        return { kind: "done", text: "Error: upstream model overloaded" };
      case "ok": {
        const covers = [...(previousSummary ? coverage(previousSummary) : []), ...actions.map((a) => a.description)];
        return { kind: "done", text: `The user did ${actions.length} things. covers:[${ranges(covers)}]` };
      }
    }
  }
}

export interface SimOptions {
  threshold?: number;
  mode?: "rolling" | "independent";
  debounceMs?: number;
  needsLink?: boolean;
  maxAttempts?: number;
}

export function createSim(seed: number, options: SimOptions = {}) {
  const random = rng(seed);
  let now = 1_700_000_000_000;
  const storage = createNodeStorage();
  migrate(storage);
  const store = new SessionStore(storage);
  const destination = new FakeDestination(options.needsLink ?? false);
  const llm = new FakeLlm();
  const config = parseCore({
    SUMMARY_THRESHOLD: String(options.threshold ?? 10),
    SUMMARY_MODE: options.mode ?? "rolling",
    DEBOUNCE_MS: String(options.debounceMs ?? 0),
    STEP_MAX_ATTEMPTS: String(options.maxAttempts ?? 8),
  });
  const core = new SessionCore(
    { store, config, destination: () => destination, summariser: llm, now: () => now, random, log: () => {} },
    // Retention (erasing idle sessions) is tested in workerd; here it would only end the run early.
    { preLinkWindowMs: 120_000, idleMs: 30 * 60_000, retentionMs: 365 * 24 * 3_600_000 },
  );
  let nextAction = 0;
  const accepted: string[] = [];

  return {
    random,
    store,
    core,
    destination,
    llm,
    accepted,
    get now() {
      return now;
    },
    advance(ms: number) {
      now += ms;
    },
    /** Ingests a batch of `n` new actions (or replays the last key to test dedupe). */
    ingest(n: number, key?: string) {
      const actions = Array.from({ length: n }, () => {
        const id = `a${nextAction++}`;
        return { title: id, description: id, canonical_url: "/p", index: 0, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null };
      });
      const { outcome } = core.ingest(
        { product_id: "p", session_id: "s", user_id: null, email: null, conversation_id: null, forwarded_at: 0, actions },
        { kind: "content", key: key ?? `k${nextAction}` },
        now,
      );
      const duplicate = outcome === "duplicate";
      if (!duplicate) accepted.push(...actions.map((a) => a.description));
      else nextAction -= n;
      return duplicate;
    },
    /** Runs the alarm once, as workerd would when it fires. */
    async alarm() {
      return core.drain(50);
    },
    /** Jumps the clock to the next alarm time (backoff, debounce), if any. */
    jumpToNextAlarm() {
      const at = core.nextAlarm(now);
      // At most an hour at a time (a parked step's probe): retention expiry is out of scope here.
      if (at !== null && at > now) now = Math.min(at, now + 3_600_000);
      return at;
    },
  };
}

export type Sim = ReturnType<typeof createSim>;

/** Invariant 2 (nothing lost): every accepted action is pending here, in a live raw note, or covered by a posted summary. */
export function lostActions(sim: Sim): string[] {
  const held = new Set<string>();
  for (const r of sim.store.uncoveredActions(-1)) held.add(r.description);
  // Summaries stored but not posted yet also hold (they are pending delivery).
  for (const summary of sim.store.storedSummaries()) for (const a of coverage(summary)) held.add(a);
  for (const n of sim.destination.live()) for (const a of [...n.actions, ...n.covers]) held.add(a);
  return sim.accepted.filter((a) => !held.has(a));
}

/** Invariant 4 (order): raw notes carry actions in arrival order. */
export function orderViolations(sim: Sim): string[] {
  const seen = sim.destination.notes.filter((n) => n.kind === "raw").flatMap((n) => n.actions.map((a) => Number(a.slice(1))));
  return seen.some((v, i) => i > 0 && v <= seen[i - 1]!) ? [`raw notes out of order: ${seen.join(",")}`] : [];
}
