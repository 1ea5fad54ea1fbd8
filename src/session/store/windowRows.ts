/**
 * @module
 * Windows and the batches they hold: ingest appends a batch to the open window and closes it at
 * K; batches wait here until a raw note takes them, and count in the backlog until a summary
 * covers them (its row: \`summaryRows.ts\`).
 */
import type { Footprint } from "../backlog";
import type { SlimAction } from "../model";
import type { SessionRow } from "./schema";
import { MEMORISED_AHEAD } from "./sessionRows";
import { StepRows } from "./stepRows";

/** A lane's undelivered batches: first and last arrival, action count, oldest window. */
export interface PendingBatches {
  firstAt: number;
  lastAt: number;
  actions: number;
  window: number;
}

/**
 * A batch's window is closed and waits for its summary: after the session's own coverage (summaries
 * are made in window order, so every window up to it has one) and before its open window.
 */
export const WAITING = "window_id > session.covered_window AND window_id < session.open_window";

export class WindowRows extends StepRows {
  /**
   * The backlog as last read, kept current by appends so ingest does not re-scan every pending
   * batch (that scan grew with the backlog: ~0.3 ms per ingest at a few hundred batches). It is
   * valid for one session incarnation (`epoch`) and one coverage, which a summary moves on
   * (`coverBacklog`); pruning removes only covered batches, so it leaves it as it is.
   */
  private backlogCache: { epoch: string; covered: number; footprint: Footprint } | null = null;

  protected override forgetCaches(): void {
    super.forgetCaches();
    this.backlogCache = null;
  }

  /**
   * Appends a batch to the open window; closes the window when it reaches the threshold. With
   * `merge` (no lane: no raw note ever takes a batch) the open window's actions are one row,
   * extended in place, and what they add to the session's counters waits in that row until the
   * window closes (`Uncounted`): a batch writes that row alone, not a new one and the session's
   * (and pruning deletes one row per window, not one per batch).
   */
  appendBatch(
    s: SessionRow,
    actions: readonly SlimAction[],
    identity: { user_id: string | null; email: string | null; link: string | null },
    threshold: number,
    now: number,
    merge = false,
  ): { closedWindow: boolean } {
    const n = actions.length;
    const closes = n > 0 && s.open_count + n >= threshold;
    // Counted with the window's close, as its row says until then.
    const deferred = merge && n > 0 && !closes;
    // The window's merged batches are folded into the session's counters as it closes.
    const folded = closes ? this.uncounted() : { actions: 0, batches: 0 };
    if (n > 0) {
      const json = JSON.stringify(actions);
      const [uActions, uBatches] = deferred ? [n, 1] : [0, 0];
      // Two JSON arrays of objects joined: `[a]` + `[b]` is `[a,b]`, one byte shorter than both.
      // A window with no action yet has no row to extend.
      const merged =
        merge &&
        s.open_count > 0 &&
        this.all(
          `UPDATE batches SET actions = substr(actions, 1, length(actions) - 1) || ',' || substr(?, 2), action_count = action_count + ?,
             uncounted_actions = uncounted_actions + ?, uncounted_batches = uncounted_batches + ?, last_at = ?
           WHERE seq = (SELECT MAX(seq) FROM batches WHERE window_id = ?) RETURNING seq`,
          json,
          n,
          uActions,
          uBatches,
          now,
          s.open_window,
        ).length > 0;
      if (!merged) {
        // The seq is the session's batch count, so it never repeats even once every batch is pruned
        // (a plain rowid would restart below a lane's `delivered_seq`).
        this.sql.exec(
          "INSERT INTO batches (seq, window_id, received_at, action_count, actions, uncounted_actions, uncounted_batches, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          s.batches_accepted + 1,
          s.open_window,
          now,
          n,
          json,
          uActions,
          uBatches,
          now,
        );
      }
      if (deferred) this.setUncounted(true);
      const cache = this.backlogCache;
      if (cache && cache.epoch === s.epoch && cache.covered === s.covered_window) {
        cache.footprint = { actions: cache.footprint.actions + n, bytes: cache.footprint.bytes + utf8Bytes(json) - (merged ? 1 : 0) };
      }
    }
    const newIdentity =
      (identity.user_id !== null && identity.user_id !== s.user_id) || (identity.email !== null && identity.email !== s.email) || (identity.link !== null && s.link === null);
    if (deferred && !newIdentity) return { closedWindow: false };
    const [counted, countedBatches] = deferred ? [0, 0] : [n + folded.actions, 1 + folded.batches];
    this.sql.exec(
      `UPDATE session SET open_window = open_window + ?, open_count = CASE WHEN ? THEN 0 ELSE open_count + ? END,
         last_action_at = CASE WHEN ? THEN ? ELSE last_action_at END,
         actions_accepted = actions_accepted + ?, batches_accepted = batches_accepted + ?,
         user_id = COALESCE(?, user_id), email = COALESCE(?, email),
         link = COALESCE(link, ?), linked_at = CASE WHEN link IS NULL AND ? IS NOT NULL THEN ? ELSE linked_at END,
         memorised_window = MAX(memorised_window, ${MEMORISED_AHEAD})
       WHERE id = 1`,
      closes ? 1 : 0,
      closes ? 1 : 0,
      deferred ? 0 : n,
      deferred ? 0 : 1,
      now,
      counted,
      countedBatches,
      identity.user_id,
      identity.email,
      identity.link,
      identity.link,
      now,
      ...this.memorisedAhead(),
    );
    if (closes) this.setUncounted(false);
    return { closedWindow: closes };
  }

  /** Closes the open window now (flush, idle) if it holds any action, folding its merged batches into the session's counters. */
  closeOpenWindow(): boolean {
    const read = this.sessionWith("");
    if (!read || read.session.open_count === 0) return false;
    const u = read.uncounted;
    this.sql.exec(
      `UPDATE session SET open_window = open_window + 1, open_count = 0, actions_accepted = actions_accepted + ?,
         batches_accepted = batches_accepted + ?, last_action_at = MAX(last_action_at, ?), memorised_window = MAX(memorised_window, ${MEMORISED_AHEAD})
       WHERE id = 1`,
      u.actions,
      u.batches,
      u.lastAt ?? 0,
      ...this.memorisedAhead(),
    );
    this.setUncounted(false);
    return true;
  }

  /**
   * The backlog: stored batches not covered by a posted summary (held-back batches count until
   * pruned). `octet_length` reads each value's size from its record header, not the value.
   */
  backlog(s: Pick<SessionRow, "epoch" | "covered_window">): Footprint {
    const cache = this.backlogCache;
    if (cache && cache.epoch === s.epoch && cache.covered === s.covered_window) return { ...cache.footprint };
    const footprint = this.first<Footprint>(
      `SELECT COALESCE(SUM(action_count), 0) AS actions, COALESCE(SUM(octet_length(actions)), 0) AS bytes
       FROM batches WHERE window_id > ?`,
      s.covered_window,
    )!;
    this.backlogCache = { epoch: s.epoch, covered: s.covered_window, footprint };
    return { ...footprint };
  }

  /**
   * The session's coverage moves on to `covered`: the cached backlog loses the windows it covers
   * now when `read` holds them all (what a summary call read: closed windows never change), else it
   * is read again.
   */
  protected coverBacklog(covered: number, read: ReadonlyMap<number, Footprint>): void {
    const cache = this.backlogCache;
    if (!cache || covered <= cache.covered) return;
    let { actions, bytes } = cache.footprint;
    for (let w = cache.covered + 1; w <= covered; w++) {
      const f = read.get(w);
      if (!f) {
        this.backlogCache = null;
        return;
      }
      actions -= f.actions;
      bytes -= f.bytes;
    }
    this.backlogCache = { epoch: cache.epoch, covered, footprint: { actions, bytes } };
  }

  /** Actions not covered by a posted summary, in arrival order (pending or in live raw notes). */
  uncoveredActions(coveredWindow: number): SlimAction[] {
    return this.actionsOf("SELECT actions FROM batches WHERE window_id > ? ORDER BY seq", coveredWindow);
  }

  /** Windows stored (with their summary) or waiting for one. */
  windowCounts(): { closed: number; unsummarised: number } {
    const { summarised, unsummarised } = this.first<{ summarised: number; unsummarised: number }>(
      `SELECT (SELECT COUNT(*) FROM windows WHERE summary IS NOT NULL) AS summarised,
         (SELECT COUNT(DISTINCT window_id) FROM batches, session WHERE ${WAITING}) AS unsummarised`,
    )!;
    return { closed: summarised + unsummarised, unsummarised };
  }
}

const encoder = new TextEncoder();
/** Bytes of a string in UTF-8, as SQLite's `octet_length` counts a TEXT value. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}
