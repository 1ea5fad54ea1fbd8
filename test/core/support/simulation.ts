/**
 * A whole session run in plain Node: the real SessionCore, SessionStore (on node:sqlite), plan
 * and steps, with the real webhook destination and OpenAI-compatible LLM client talking to the
 * fake outside world (test/world) that misbehaves on demand. The world's receiver keeps what an
 * agent would see, so the invariants can be checked on it.
 */
import { vi } from "vitest";
import { parseConfig, sessionConfigOf } from "../../../src/config";
import { createDestination } from "../../../src/destinations/registry";
import type { Destination } from "../../../src/destinations/types";
import { createSummariser } from "../../../src/llm/createSummariser";
import { migrate } from "../../../src/session/migrations";
import { SessionCore } from "../../../src/session/sessionCore";
import { SessionStore } from "../../../src/session/sessionStore";
import { MAX_WINDOWS_PER_CALL } from "../../../src/session/steps/summarise";
import { createWorld, type DestFault as WorldDestFault, type LlmFault as WorldLlmFault, type ReceivedNote } from "../../world";
import { decodeCoverage, Ledger, token } from "../../world/ledger";
import { mulberry32 } from "../../world/prng";
import { createNodeStorage } from "./nodeStorage";

/** Same seeded stream as the fault campaign. */
export const rng = mulberry32;

export type DestFault = "ok" | "retry" | "landed-unknown" | "lost-unknown" | "failed";
export type LlmFault = "ok" | "error" | "empty" | "error-text" | "failed";

/** The simulation's faults as the world answers them. */
const DEST_FAULTS: Record<DestFault, WorldDestFault | null> = {
  ok: null,
  retry: "503",
  "landed-unknown": "timeout-landed",
  "lost-unknown": "timeout-lost",
  failed: "401",
};
const LLM_FAULTS: Record<LlmFault, WorldLlmFault | null> = { ok: null, error: "503", empty: "empty", "error-text": "error-text", failed: "401" };

const ACTOR = "p:s";
const SECRET = `whsec_${btoa("simulation-webhook-secret-32-byte")}`;
/** Most actions one batch of the simulation carries. */
const MAX_BATCH = 6;

/** What the agent sees of one note, with action tokens and coverage as lists. */
export interface DestNote {
  partId: string;
  kind: "raw" | "summary";
  window: number;
  actions: string[];
  covers: string[];
  redacted: boolean;
  text: string;
}

function destNote(n: ReceivedNote): DestNote {
  return { partId: n.id, kind: n.kind, window: n.window, actions: n.tokens, covers: [...(n.covers ?? [])], redacted: n.redacted, text: n.text };
}

/** The tokens a summary text covers (its own window's plus, rolling, the previous summary's). */
export function coverage(text: string): string[] {
  return [...(decodeCoverage(text) ?? [])];
}

export interface SimOptions {
  threshold?: number;
  mode?: "rolling" | "independent";
  debounceMs?: number;
  needsLink?: boolean;
  maxAttempts?: number;
  /** Retention (erasing an idle session); default a year, out of the way of runs that are not about it. */
  retentionMs?: number;
}

export function createSim(seed: number, options: SimOptions = {}) {
  const random = rng(seed);
  let now = 1_700_000_000_000;
  const storage = createNodeStorage();
  migrate(storage);
  const store = new SessionStore(storage);
  const threshold = options.threshold ?? 10;
  const config = sessionConfigOf(parseConfig({
    SUMMARY_THRESHOLD: String(threshold),
    SUMMARY_MODE: options.mode ?? "rolling",
    DEBOUNCE_MS: String(options.debounceMs ?? 0),
    STEP_MAX_ATTEMPTS: String(options.maxAttempts ?? 8),
    DESTINATION: "webhook",
    WEBHOOK_URL: "https://hooks.test/sim",
    WEBHOOK_SECRET: SECRET,
    LLM_BASE_URL: "https://llm.test/v1",
    LLM_API_KEY: "sim",
  }));
  const ledger = new Ledger();
  const world = createWorld({ secret: SECRET, ledger, maxPromptActions: (threshold - 1 + MAX_BATCH) * MAX_WINDOWS_PER_CALL });
  const destination = {
    fault: (): DestFault => "ok",
    /** What the world saw go wrong, as one line each. */
    get violations(): string[] {
      return world.violations.map((v) => `[${v.invariant}] ${v.message}`);
    },
    live: (): DestNote[] => world.receiver.live({ actor: ACTOR }).map(destNote),
    /** Every note that reached the destination, redacted ones included, in arrival order. */
    all: (): DestNote[] => [...world.receiver.notes.values()].filter((n) => n.actor === ACTOR).map(destNote),
  };
  const llm = { fault: (): LlmFault => "ok" };
  world.faults = { dest: () => DEST_FAULTS[destination.fault()], llm: () => LLM_FAULTS[llm.fault()] };
  // The LLM client calls the global fetch; the destination is handed the world's (its clock is real
  // time, for the webhook-timestamp the receiver checks; the core keeps the simulated clock).
  vi.spyOn(globalThis, "fetch").mockImplementation(world.fetch);
  const webhook = createDestination(config.lanes[0]!.settings, { fetch: world.fetch, now: () => Date.now(), timeoutMs: config.destinationTimeoutMs });
  const target: Destination = options.needsLink ? { ...webhook, needsLink: true } : webhook;
  const core = new SessionCore(
    { store, config, laneEntries: [config.lanes[0]!.entry], destination: () => target, summariser: createSummariser(config.llm), now: () => now, random, log: () => {} },
    // Retention (erasing idle sessions) is tested in workerd; here it would only end the run early.
    { preLinkWindowMs: 120_000, idleMs: 30 * 60_000, retentionMs: options.retentionMs ?? 365 * 24 * 3_600_000 },
  );
  let nextAction = 0;
  const accepted: string[] = [];

  return {
    random,
    store,
    core,
    world,
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
        const id = token(0, nextAction++);
        return { title: id, description: id, canonical_url: "/p", index: 0, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null };
      });
      const tokens = actions.map((a) => a.description);
      const { outcome } = core.ingest(
        { product_id: "p", session_id: "s", user_id: null, email: null, conversation_id: null, forwarded_at: 0, actions },
        { kind: "content", key: key ?? `k${nextAction}` },
        now,
      );
      const duplicate = outcome === "duplicate";
      if (!duplicate) {
        ledger.sent(tokens, ACTOR);
        ledger.accepted(tokens);
        accepted.push(...tokens);
      } else nextAction -= n;
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
  const seen = [...sim.world.receiver.notes.values()].filter((n) => n.kind === "raw").flatMap((n) => n.tokens.map((t) => Number(t.split("-")[2])));
  return seen.some((v, i) => i > 0 && v <= seen[i - 1]!) ? [`raw notes out of order: ${seen.join(",")}`] : [];
}
