/**
 * @module
 * The product's index of its sessions: what a session writes about itself (from its own `index`
 * step, never from ingest) and how a listing reads it. A session's status is derived at read time
 * from what it wrote and the clock, so a session that went quiet reads `idle` without writing
 * again. Pure.
 */

export const SESSION_STATUSES = ["active", "parked", "linked", "idle"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** The step in trouble, as the session state shows it. */
export interface IndexedStep {
  key: string;
  kind: string;
  attempts: number;
  last_error: string | null;
  parked: boolean;
}

/** One session's entry, as its actor sends it. Times are ms since the epoch. */
export interface IndexEntry {
  session_id: string;
  /** The session's incarnation: an erased session that starts again is a new one. */
  epoch: string;
  user_id: string | null;
  link: string | null;
  created_at: number;
  last_activity_at: number;
  /** When the session erases itself (retention); the index drops the entry then even if told nothing. */
  expires_at: number;
  counts: { actions: number; batches: number; raw_notes: number; summaries: number; redactions: number };
  step: IndexedStep | null;
}

/**
 * Cases, first match wins:
 * - parked: a step is parked (someone must look);
 * - idle: no action for the product's `idle` time;
 * - linked: active, with a conversation;
 * - active: otherwise.
 */
export function statusOf(e: Pick<IndexEntry, "step" | "link" | "last_activity_at">, now: number, idleMs: number): SessionStatus {
  if (e.step?.parked) return "parked";
  if (e.last_activity_at <= now - idleMs) return "idle";
  return e.link !== null ? "linked" : "active";
}

/** The listing's page size: `limit` (default 50, at most 200). */
export const LISTING = { defaultLimit: 50, maxLimit: 200 } as const;

export interface ListQuery {
  status?: SessionStatus;
  userId?: string;
  limit: number;
  /** Entries strictly after this position in the order (newest activity first, then session id). */
  after?: { lastActivityAt: number; sessionId: string };
}

/** An entry as the listing answers it. */
export interface IndexedSession {
  session_id: string;
  user_id: string | null;
  link: string | null;
  status: SessionStatus;
  created_at: string;
  last_activity_at: string;
  counts: IndexEntry["counts"];
  step: IndexedStep | null;
}

export function listedSession(e: IndexEntry, now: number, idleMs: number): IndexedSession {
  return {
    session_id: e.session_id,
    user_id: e.user_id,
    link: e.link,
    status: statusOf(e, now, idleMs),
    created_at: new Date(e.created_at).toISOString(),
    last_activity_at: new Date(e.last_activity_at).toISOString(),
    counts: e.counts,
    step: e.step,
  };
}
