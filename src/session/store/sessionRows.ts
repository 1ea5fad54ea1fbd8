/**
 * @module
 * The session row: identity, link, the open window's position and the counters.
 */
import type { SessionRow } from "./schema";
import { SqlStore } from "./sqlStore";

export type Counter =
  | "summaries"
  | "llm_calls"
  | "llm_failures"
  | "summaries_rejected"
  | "step_failures";

/** What the open window's merged batches add to the session's counters, not yet in its row (schema 008). */
export interface Uncounted {
  actions: number;
  batches: number;
  lastAt: number | null;
}

const NONE: Uncounted = { actions: 0, batches: 0, lastAt: null };

/** The session row as stored, with what its open window's merged batches add and the extra columns read with it. */
interface StoredSession {
  row: SessionRow;
  extra: Record<string, unknown>;
  uncounted: Uncounted;
}

/**
 * The memory step's progress as a value over the session row (bound with `memorisedAhead()`): the
 * window it reached in this incarnation, 0 for another's (an erased session's id started again).
 */
export const MEMORISED_AHEAD = "CASE WHEN session.epoch = ? THEN ? ELSE 0 END";

export class SessionRows extends SqlStore {
  /**
   * Whether the open window may hold uncounted batches (null: unknown, ask storage). Only a
   * session with no lane defers counts; knowing it has none spares every read of the session a
   * scan of its batches. Reset when a transaction rolls back.
   */
  private mayHaveUncounted: boolean | null = null;

  /**
   * How far the memory step got (`memorised_window`) beyond the stored value, for the session
   * incarnation `epoch`. It is written with the session's next write (a batch, a summary) rather
   * than a row of its own per summary: an entry is idempotent at the product, so one lost to an
   * eviction in between is only sent again, and changes nothing there.
   */
  private memorised: { epoch: string; window: number } | null = null;

  /** The session row with what its open window's merged batches and the memory step add (see `Uncounted`, `memorised`). */
  session(): SessionRow | null {
    return this.sessionWith<Record<string, never>>("")?.session ?? null;
  }

  /**
   * The session (as `session()`) and `columns` (`, (subquery) AS name …`, over `session`) in one
   * statement: the plan reads everything it needs this way.
   */
  protected sessionWith<X extends Record<string, unknown>>(columns: string, ...bindings: unknown[]): { session: SessionRow; extra: X; uncounted: Uncounted } | null {
    // The row is read again only after a write (`memo`); the memory step's progress, which changes
    // without one, is applied on top at each read.
    let read: StoredSession | null;
    if (columns === "") {
      read = this.memo("session", () => this.readSession("", []));
    } else {
      read = this.readSession(columns, bindings);
      this.remember("session", read);
    }
    if (!read) return null;
    const { row: s, uncounted: u } = read;
    return {
      session: {
        ...s,
        open_count: s.open_count + u.actions,
        actions_accepted: s.actions_accepted + u.actions,
        batches_accepted: s.batches_accepted + u.batches,
        last_action_at: Math.max(s.last_action_at, u.lastAt ?? s.last_action_at),
        memorised_window: this.withMemorised(s).memorised_window,
      },
      extra: read.extra as X,
      uncounted: u,
    };
  }

  private readSession(columns: string, bindings: readonly unknown[]): StoredSession | null {
    // One scan of the batches finds the open window's uncounted ones, unless there are known to be none.
    const uncounted =
      this.mayHaveUncounted === false
        ? { select: "0 AS u_actions, 0 AS u_batches, NULL AS u_last_at", from: "" }
        : {
            select: "COALESCE(u.actions, 0) AS u_actions, COALESCE(u.batches, 0) AS u_batches, u.last_at AS u_last_at",
            from: `LEFT JOIN (SELECT window_id, SUM(uncounted_actions) AS actions, SUM(uncounted_batches) AS batches, MAX(last_at) AS last_at
                     FROM batches WHERE uncounted_batches > 0 GROUP BY window_id) u ON u.window_id = session.open_window`,
          };
    const row = this.first<SessionRow & { u_actions: number; u_batches: number; u_last_at: number | null }>(
      `SELECT session.*, ${uncounted.select}${columns} FROM session ${uncounted.from} WHERE session.id = 1`,
      ...bindings,
    );
    if (!row) return null;
    const { u_actions, u_batches, u_last_at, ...rest } = row;
    if (uncounted.from !== "") this.mayHaveUncounted = u_batches > 0;
    return { row: rest as SessionRow, extra: rest, uncounted: { actions: u_actions, batches: u_batches, lastAt: u_last_at } };
  }

  /** What the open window's merged batches add to the session's counters. */
  protected uncounted(): Uncounted {
    return this.mayHaveUncounted === false ? NONE : (this.sessionWith("")?.uncounted ?? NONE);
  }

  /**
   * After a write that returned the session row (`RETURNING *`): the next read of it needs no
   * statement, unless merged batches may add to it.
   */
  protected refreshSession(row: SessionRow | null): void {
    if (row && this.mayHaveUncounted === false) this.remember("session", { row, extra: {}, uncounted: NONE });
  }

  /** A batch's counts now wait in its row (true), or the open window's were written to the session (false). */
  protected setUncounted(pending: boolean): void {
    this.mayHaveUncounted = pending;
  }

  protected override forgetCaches(): void {
    super.forgetCaches();
    this.mayHaveUncounted = null;
  }

  /** The bindings of `MEMORISED_AHEAD`: the memory step's progress not yet written, for the next session write to carry. */
  protected memorisedAhead(): [string | null, number] {
    return [this.memorised?.epoch ?? null, this.memorised?.window ?? 0];
  }

  createSession(productId: string, sessionId: string, epoch: string, now: number): void {
    this.sql.exec(
      "INSERT INTO session (id, product_id, session_id, epoch, created_at, last_action_at) VALUES (1, ?, ?, ?, ?, ?)",
      productId,
      sessionId,
      epoch,
      now,
      now,
    );
  }

  /** Adds one to each counter, in one write. */
  bump(...counters: readonly Counter[]): void {
    this.sql.exec(`UPDATE session SET ${counters.map((c) => `${c} = ${c} + 1`).join(", ")} WHERE id = 1`);
  }

  recordDuplicate(): void {
    this.sql.exec("UPDATE session SET duplicates = duplicates + 1 WHERE id = 1");
  }

  setFlushAt(now: number): void {
    this.sql.exec("UPDATE session SET flush_at = ? WHERE id = 1", now);
  }

  /** What the index step last wrote: its state and the activity it reported (`session/indexing.ts`). */
  markIndexed(state: string, activityAt: number | null, now: number): void {
    this.sql.exec("UPDATE session SET indexed_state = ?, indexed_activity_at = ?, indexed_at = ? WHERE id = 1", state, activityAt, now);
  }

  /** `s` with its incarnation's memory progress on top (it changes without a write). */
  protected withMemorised(s: SessionRow): SessionRow {
    const ahead = this.memorised;
    return ahead && ahead.epoch === s.epoch && ahead.window > s.memorised_window ? { ...s, memorised_window: ahead.window } : s;
  }

  /** The memory step wrote window `id`'s summary (for incarnation `epoch`): it is not sent again. Written with the session's next write. */
  markMemorised(epoch: string, id: number): void {
    if (this.memorised?.epoch !== epoch || this.memorised.window < id) this.memorised = { epoch, window: id };
  }

  setLink(link: string, now: number): void {
    this.sql.exec("UPDATE session SET link = ?, linked_at = ? WHERE id = 1", link, now);
  }
}
