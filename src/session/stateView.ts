/**
 * @module
 * The session state endpoint's JSON: what is pending, every live note, the latest summary, the
 * link, the next alarm, the step in trouble (attempts, last error, parked), the LLM circuit
 * breaker, counters and storage figures. Built from storage only; it never includes a secret.
 */
import type { CoreConfig } from "../config";
import type { BreakerView } from "../llm/breaker";
import { SUMMARY_ORIGIN } from "../llm/types";
import type { SessionStore } from "./sessionStore";
import type { SessionRow } from "./store/schema";

export interface StateOptions {
  config: CoreConfig;
  /** The configured destination's name (shown even when its settings are broken). */
  destination: string;
  /** The store: nothing is ever pending delivery (its rows are the context). */
  ownStore: boolean;
  alarmAt: number | null;
  /** The summariser's name (never a key). */
  summariser: string;
  /** The LLM circuit breaker of the isolate running this session; null for the extractive summariser. */
  breaker: BreakerView | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function buildState(store: SessionStore, s: SessionRow, opts: StateOptions) {
  const pending = opts.ownStore ? null : store.pending(s.covered_window);
  const latest = store.latestSummary();
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
    pending: { actions: pending?.actions ?? 0, since: iso(pending?.firstAt ?? null) },
    // What ingest's bound counts: stored actions not yet covered by a posted summary (429 past the max).
    backlog: { ...store.backlog(s), max_actions: opts.config.maxPendingActions, max_bytes: opts.config.maxPendingBytes },
    open_window: { id: s.open_window, actions: s.open_count },
    windows: { closed: windows.closed, unsummarised: windows.unsummarised, unposted: windows.unposted, covered_through: s.covered_window },
    notes: store.liveNotes().map((n) => ({
      part_id: n.part_id,
      kind: n.kind,
      window: n.window_id,
      posted_at: iso(n.posted_at),
      redacted_at: null,
    })),
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
      raw_notes_posted: s.raw_notes_posted,
      summaries: s.summaries,
      summary_notes_posted: s.summary_notes_posted,
      redactions: s.redactions,
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
