/**
 * @module
 * Windows and the batches they hold: ingest appends a batch to the open window and closes it at
 * K; a closed window gets its summary; batches wait here until a raw note takes them.
 */
import type { SummaryOrigin } from "../../llm/types";
import type { Footprint } from "../backlog";
import type { SlimAction } from "../model";
import type { SessionRow, WindowRow } from "./schema";
import { StepRows } from "./stepRows";

/** A lane's undelivered batches: first and last arrival, action count, oldest window. */
export interface PendingBatches {
  firstAt: number;
  lastAt: number;
  actions: number;
  window: number;
}

export class WindowRows extends StepRows {
  /**
   * The backlog as last read, kept current by appends so ingest does not re-scan every pending
   * batch (that scan grew with the backlog: ~0.3 ms per ingest at a few hundred batches). It is
   * valid for one session incarnation (`epoch`) and one coverage; pruning drops it.
   */
  private backlogCache: { epoch: string; covered: number; footprint: Footprint } | null = null;

  /** Forgets the cached backlog (batches were removed, or a transaction did not commit). */
  protected override forgetBacklog(): void {
    this.backlogCache = null;
  }

  /**
   * Appends a batch to the open window; closes the window when it reaches the threshold. With
   * `merge` (no lane: no raw note ever takes a batch) the open window's actions are one row,
   * extended in place, so a batch writes that row and not a new one (and pruning deletes one row
   * per window, not one per batch).
   */
  appendBatch(
    s: SessionRow,
    actions: readonly SlimAction[],
    identity: { user_id: string | null; email: string | null; link: string | null },
    threshold: number,
    now: number,
    merge = false,
  ): { closedWindow: boolean } {
    let openWindow = s.open_window;
    let openCount = s.open_count + actions.length;
    let closedWindow = false;
    if (actions.length > 0) {
      const json = JSON.stringify(actions);
      // Two JSON arrays of objects joined: `[a]` + `[b]` is `[a,b]`, one byte shorter than both.
      const merged =
        merge &&
        this.all(
          `UPDATE batches SET actions = substr(actions, 1, length(actions) - 1) || ',' || substr(?, 2), action_count = action_count + ?
           WHERE window_id = ? RETURNING seq`,
          json,
          actions.length,
          openWindow,
        ).length > 0;
      if (!merged) {
        // The seq is the session's batch count, so it never repeats even once every batch is pruned
        // (a plain rowid would restart below a lane's `delivered_seq`).
        this.sql.exec(
          "INSERT INTO batches (seq, window_id, received_at, action_count, actions) VALUES (?, ?, ?, ?, ?)",
          s.batches_accepted + 1,
          openWindow,
          now,
          actions.length,
          json,
        );
      }
      const cache = this.backlogCache;
      if (cache && cache.epoch === s.epoch && cache.covered === s.covered_window) {
        cache.footprint = { actions: cache.footprint.actions + actions.length, bytes: cache.footprint.bytes + utf8Bytes(json) - (merged ? 1 : 0) };
      }
      if (openCount >= threshold) {
        this.closeWindow(openWindow, openCount, now);
        openWindow += 1;
        openCount = 0;
        closedWindow = true;
      }
    }
    this.sql.exec(
      `UPDATE session SET open_window = ?, open_count = ?, last_action_at = ?,
         actions_accepted = actions_accepted + ?, batches_accepted = batches_accepted + 1,
         user_id = COALESCE(?, user_id), email = COALESCE(?, email),
         link = COALESCE(link, ?), linked_at = CASE WHEN link IS NULL AND ? IS NOT NULL THEN ? ELSE linked_at END
       WHERE id = 1`,
      openWindow,
      openCount,
      now,
      actions.length,
      identity.user_id,
      identity.email,
      identity.link,
      identity.link,
      now,
    );
    return { closedWindow };
  }

  private closeWindow(id: number, count: number, now: number): void {
    this.sql.exec("INSERT INTO windows (id, action_count, closed_at) VALUES (?, ?, ?)", id, count, now);
  }

  /** Closes the open window now (flush, idle) if it holds any action. */
  closeOpenWindow(now: number): boolean {
    const s = this.session();
    if (!s || s.open_count === 0) return false;
    this.closeWindow(s.open_window, s.open_count, now);
    this.sql.exec("UPDATE session SET open_window = open_window + 1, open_count = 0 WHERE id = 1");
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

  /** Actions not covered by a posted summary, in arrival order (pending or in live raw notes). */
  uncoveredActions(coveredWindow: number): SlimAction[] {
    return this.actionsOf("SELECT actions FROM batches WHERE window_id > ? ORDER BY seq", coveredWindow);
  }

  window(id: number): WindowRow | null {
    return this.first<WindowRow>("SELECT * FROM windows WHERE id = ?", id);
  }

  /**
   * Closed windows without a summary from `first` on, oldest first (at most `limit`), each with
   * its actions in arrival order: what a catch-up call may summarise together.
   */
  waitingWindows(first: number, limit: number): { id: number; actions: SlimAction[] }[] {
    const ids = this.all<{ id: number }>("SELECT id FROM windows WHERE summary IS NULL AND id >= ? ORDER BY id LIMIT ?", first, limit).map((r) => r.id);
    if (ids.length === 0) return [];
    const byWindow = new Map(ids.map((id) => [id, [] as SlimAction[]]));
    const rows = this.all<{ window_id: number; actions: string }>(
      "SELECT window_id, actions FROM batches WHERE window_id BETWEEN ? AND ? ORDER BY seq",
      ids[0],
      ids[ids.length - 1],
    );
    for (const r of rows) byWindow.get(r.window_id)?.push(...(JSON.parse(r.actions) as SlimAction[]));
    return ids.map((id) => ({ id, actions: byWindow.get(id)! }));
  }

  /**
   * One summary, stored on `last`, covers the windows from `first`: the earlier ones are dropped
   * (their batches stay until the summary is posted, which covers every window up to `last`), and
   * `last` counts their actions, so a window's count is what its summary covers (the SDK's `replaces`).
   */
  absorbWindows(first: number, last: number): void {
    if (first < last) {
      this.sql.exec(
        "UPDATE windows SET action_count = action_count + (SELECT COALESCE(SUM(action_count), 0) FROM windows WHERE id >= ? AND id < ? AND summary IS NULL) WHERE id = ?",
        first,
        last,
        last,
      );
    }
    this.sql.exec("DELETE FROM windows WHERE id >= ? AND id < ? AND summary IS NULL", first, last);
  }

  nextToSummarise(): number | null {
    return this.first<{ id: number }>("SELECT id FROM windows WHERE summary IS NULL ORDER BY id LIMIT 1")?.id ?? null;
  }

  /** The oldest stored summary the product's memory does not have yet. */
  nextToMemorise(memorisedWindow: number): number | null {
    return this.first<{ id: number }>("SELECT id FROM windows WHERE id > ? AND summary IS NOT NULL ORDER BY id LIMIT 1", memorisedWindow)?.id ?? null;
  }

  /** The summary a rolling prompt builds on: the newest summarised window before `id`. */
  previousSummary(id: number): string | null {
    return (
      this.first<{ summary: string }>(
        "SELECT summary FROM windows WHERE id < ? AND summary IS NOT NULL ORDER BY id DESC LIMIT 1",
        id,
      )?.summary ?? null
    );
  }

  /**
   * A summary is stored, and with it in the session's own copy (what the context reads): its
   * window and every earlier one are covered there. Two rows written: the window and the session.
   */
  storeSummary(id: number, summary: string, origin: SummaryOrigin, now: number): void {
    this.sql.exec(
      "UPDATE windows SET summary = ?, summarised_at = ?, extractive = ?, posted_at = ? WHERE id = ? AND summary IS NULL",
      summary,
      now,
      origin,
      now,
      id,
    );
    this.sql.exec("UPDATE windows SET posted_at = ? WHERE id < ? AND posted_at IS NULL", now, id);
    this.sql.exec("UPDATE session SET summaries = summaries + 1, covered_window = MAX(covered_window, ?) WHERE id = 1", id);
  }

  /** The stored summaries' windows, ascending. */
  summarisedWindows(): number[] {
    return this.all<{ id: number }>("SELECT id FROM windows WHERE summary IS NOT NULL ORDER BY id").map((r) => r.id);
  }

  /** Every summary still stored (posted or not), oldest first. */
  storedSummaries(): string[] {
    return this.all<{ summary: string }>("SELECT summary FROM windows WHERE summary IS NOT NULL ORDER BY id").map((r) => r.summary);
  }

  latestSummary(): WindowRow | null {
    return this.first<WindowRow>("SELECT * FROM windows WHERE posted_at IS NOT NULL ORDER BY id DESC LIMIT 1");
  }

  windowCounts(): { closed: number; unsummarised: number } {
    return this.first<{ closed: number; unsummarised: number }>(
      "SELECT COUNT(*) AS closed, COALESCE(SUM(summary IS NULL), 0) AS unsummarised FROM windows",
    )!;
  }
}

const encoder = new TextEncoder();
/** Bytes of a string in UTF-8, as SQLite's `octet_length` counts a TEXT value. */
function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}
