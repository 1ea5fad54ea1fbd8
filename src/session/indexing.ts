/**
 * @module
 * When a session's entry in its product's index is due, and what it says. Nothing marks a session
 * "index-dirty": the plan compares what the session last wrote (`indexed_state`,
 * `indexed_activity_at`) with what it is now, so no path (ingest, link, a step parking or
 * recovering) can forget to mark it. Pure.
 *
 * - never written (created), or its user, link or parked steps changed (linked, parked,
 *   recovered): due now;
 * - only newer activity: due `INDEX_ACTIVITY_INTERVAL_MS` after the last write, so activity costs
 *   at most one write a minute however fast events arrive;
 * - otherwise: not due.
 * A session with a user the index does not know yet is written without waiting for its other
 * lanes (`userUnindexed`), and once more, settled, a minute later.
 */
import type { IndexEntry, IndexedStep } from "../product/sessionIndex";
import { expiresAt } from "./plan";
import type { NoteCounts } from "./store/laneRows";
import type { SessionRow, StepRow } from "./store/schema";

export const INDEX_ACTIVITY_INTERVAL_MS = 60_000;

/** The index step's own row never describes the session's trouble (it could never report itself). */
const troubleSteps = (steps: readonly StepRow[]): StepRow[] => steps.filter((r) => r.kind !== "index");

/** What, when it changes, makes the entry due at once. */
export function indexState(s: Pick<SessionRow, "user_id" | "link">, steps: readonly StepRow[]): string {
  const parked = troubleSteps(steps)
    .filter((r) => r.parked_at !== null)
    .map((r) => r.key)
    .sort();
  return JSON.stringify([s.user_id, s.link, parked]);
}

/**
 * The session has a user the index cannot find it by yet (its first entry, or its user changed):
 * the entry is written at once, without waiting for the other lanes to settle, so what the
 * session accepted reaches `get_live_user_activity` within a second however slow its destination.
 */
export function userUnindexed(s: Pick<SessionRow, "user_id" | "indexed_state">): boolean {
  if (s.user_id === null) return false;
  if (s.indexed_state === null) return true;
  const [indexedUser] = JSON.parse(s.indexed_state) as [string | null];
  return indexedUser !== s.user_id;
}

/** When the entry is due (0: at once), or null when the index already says what the session is. */
export function indexDueAt(s: SessionRow, steps: readonly StepRow[]): number | null {
  if (s.indexed_state === null || s.indexed_state !== indexState(s, steps)) return 0;
  if (s.indexed_activity_at !== s.last_action_at) return (s.indexed_at ?? 0) + INDEX_ACTIVITY_INTERVAL_MS;
  return null;
}

/** The step in trouble: a parked one first, else the one that failed most. */
function stepInTrouble(steps: readonly StepRow[]): IndexedStep | null {
  const ranked = [...troubleSteps(steps)].sort((a, b) => Number(b.parked_at !== null) - Number(a.parked_at !== null) || b.attempts - a.attempts);
  const r = ranked[0];
  return r ? { key: r.key, kind: r.kind, attempts: r.attempts, last_error: r.last_error, parked: r.parked_at !== null } : null;
}

export function indexEntry(s: SessionRow, steps: readonly StepRow[], notes: NoteCounts, retentionMs: number): IndexEntry {
  return {
    session_id: s.session_id,
    epoch: s.epoch,
    user_id: s.user_id,
    link: s.link,
    created_at: s.created_at,
    last_activity_at: s.last_action_at,
    expires_at: expiresAt({ createdAt: s.created_at, lastActionAt: s.last_action_at, actionsAccepted: s.actions_accepted }, retentionMs),
    counts: {
      actions: s.actions_accepted,
      batches: s.batches_accepted,
      raw_notes: notes.raw_notes_posted,
      // Summaries made (posted, for the store, the moment they are stored).
      summaries: s.summaries,
      redactions: notes.redactions,
    },
    step: stepInTrouble(steps),
  };
}
