/**
 * @module
 * The session state endpoint's JSON: what is pending, every live note, the latest summary, the
 * link, the next alarm, the step in trouble (attempts, last error, parked), the LLM circuit
 * breaker, counters and storage figures. Built from storage only; it never includes a secret.
 */
import type { CoreConfig } from "../config";
import type { BreakerView } from "../llm/breaker";
import { SUMMARY_ORIGIN } from "../llm/types";
import { summariesToPost } from "./lanes";
import type { SessionStore } from "./sessionStore";
import type { SessionRow } from "./store/schema";

export interface StateOptions {
  config: CoreConfig;
  /** The configured destination's name (shown even when its settings are broken). */
  destination: string;
  alarmAt: number | null;
  /** The summariser's name (never a key). */
  summariser: string;
  /** The LLM circuit breaker of the isolate running this session; null for the extractive summariser. */
  breaker: BreakerView | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The destination type of a lane's entry (JSON), never its settings. */
function typeOf(entry: string): string {
  try {
    const parsed = JSON.parse(entry) as { type?: unknown };
    return typeof parsed.type === "string" ? parsed.type : "unknown";
  } catch {
    return "unknown";
  }
}

/** Keys of a lane's steps: its new deliveries and summary posts by lane id, its notes' steps by note id. */
function laneStepKeys(laneId: number, noteIds: readonly number[]): (key: string) => boolean {
  const notes = new Set(noteIds.flatMap((n) => [`deliver:${n}`, `redact:${n}`]));
  return (key) => notes.has(key) || key === `deliver:${laneId}:new` || key.startsWith(`post:${laneId}:`);
}

export function buildState(store: SessionStore, s: SessionRow, opts: StateOptions) {
  const latest = store.latestSummary();
  const liveNotes = store.liveNotes();
  const note = (n: (typeof liveNotes)[number]) => ({
    part_id: n.part_id,
    kind: n.kind,
    window: n.window_id,
    posted_at: iso(n.posted_at),
  });
  const steps = store.steps().map((r) => ({
    key: r.key,
    kind: r.kind,
    attempts: r.attempts,
    last_error: r.last_error,
    parked: r.parked_at !== null,
    parked_at: iso(r.parked_at),
    next_attempt_at: iso(r.next_attempt_at),
  }));
  const windows = store.windowCounts();
  const summarised = store.summarisedWindows();
  const lanes = store.lanes().map((lane) => {
    const pending = store.pending(lane, s);
    const notes = liveNotes.filter((n) => n.lane === lane.id);
    const mine = laneStepKeys(lane.id, notes.map((n) => n.id));
    const laneSteps = steps.filter((r) => mine(r.key));
    const unposted = summariesToPost({ covered: lane.covered_window }, summarised, store.rawNoteWindows(lane.id), opts.config.mode === "rolling").length;
    return {
      id: lane.id,
      destination: typeOf(lane.destination),
      added_at: iso(lane.added_at),
      covered_through: lane.covered_window,
      unposted_summaries: unposted,
      pending: { actions: pending?.actions ?? 0, since: iso(pending?.firstAt ?? null) },
      notes: notes.map(note),
      step: laneSteps[laneSteps.length - 1] ?? null,
      counters: {
        raw_notes_posted: lane.raw_notes_posted,
        summary_notes_posted: lane.summary_notes_posted,
        redactions: lane.redactions,
        step_failures: lane.step_failures,
        summaries_skipped: lane.summaries_skipped,
      },
    };
  });
  // The session's note counters are its lanes' sums.
  const totals = { raw_notes_posted: 0, summary_notes_posted: 0, redactions: 0 };
  for (const l of lanes) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += l.counters[k];
  // The lane furthest behind.
  const pending = lanes.reduce<(typeof lanes)[number]["pending"] | null>((most, l) => (most && most.actions >= l.pending.actions ? most : l.pending), null);
  return {
    product_id: s.product_id,
    session_id: s.session_id,
    created_at: iso(s.created_at),
    last_action_at: iso(s.last_action_at),
    threshold: opts.config.threshold,
    mode: opts.config.mode,
    destination: opts.destination,
    summariser: opts.summariser,
    llm_breaker: opts.breaker,
    link: s.link === null ? null : { conversation_id: s.link, linked_at: iso(s.linked_at) },
    pending: pending ?? { actions: 0, since: null },
    // What ingest's bound counts: stored actions not yet covered by a posted summary (429 past the max).
    backlog: { ...store.backlog(s), max_actions: opts.config.maxPendingActions, max_bytes: opts.config.maxPendingBytes },
    open_window: { id: s.open_window, actions: s.open_count },
    // `unposted`: summaries the lane furthest behind has still to post.
    windows: {
      closed: windows.closed,
      unsummarised: windows.unsummarised,
      unposted: Math.max(0, ...lanes.map((l) => l.unposted_summaries)),
      covered_through: s.covered_window,
    },
    lanes,
    notes: liveNotes.map((n) => ({ ...note(n), lane: n.lane, redacted_at: null })),
    latest_summary: latest && {
      window: latest.id,
      text: latest.summary,
      extractive: latest.extractive !== SUMMARY_ORIGIN.llm,
      // Set when the LLM refused the window's request and the extractive summary stood in.
      fallback: latest.extractive === SUMMARY_ORIGIN.fallback ? "llm_rejected_request" : null,
      posted_at: iso(latest.posted_at),
    },
    next_alarm_at: iso(opts.alarmAt),
    step: steps[steps.length - 1] ?? null,
    steps,
    counters: {
      actions_accepted: s.actions_accepted,
      batches_accepted: s.batches_accepted,
      duplicates: s.duplicates,
      raw_notes_posted: totals.raw_notes_posted,
      summaries: s.summaries,
      summary_notes_posted: totals.summary_notes_posted,
      redactions: totals.redactions,
      llm_calls: s.llm_calls,
      llm_failures: s.llm_failures,
      summaries_rejected: s.summaries_rejected,
      step_failures: s.step_failures,
      actions_held_back: s.actions_held_back,
    },
    storage: store.storageFigures(),
  };
}

export type SessionState = ReturnType<typeof buildState>;
