/**
 * @module
 * Windows and the batches they hold: ingest appends a batch to the open window and closes it at
 * K; a closed window gets its summary; batches wait here until a raw note takes them.
 */
import type { SummaryOrigin } from "../../llm/types";
import type { Footprint } from "../backlog";
import type { SlimAction } from "../model";
import type { SessionRow, WindowRow } from "./schema";
import { MEMORISED_AHEAD, type Counter } from "./sessionRows";
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
   * valid for one session incarnation (`epoch`) and one coverage; pruning drops it.
   */
  private backlogCache: { epoch: string; covered: number; footprint: Footprint } | null = null;

  /** Forgets the cached backlog (batches were removed). */
  protected forgetBacklog(): void {
    this.backlogCache = null;
  }

  /**
   * The summary row last written, as written (`RETURNING *`): the steps that follow a summary (its
   * memory entry, each lane's post) read it from here. A window row never changes once written;
   * pruning drops it (`forgetWindows`), as do a rollback and an erase.
   */
  private lastWritten: WindowRow | null = null;

  /** The stored summaries' windows, ascending (null: read them), kept current by the writes below, as window rows change nowhere else. */
  private summarised: readonly number[] | null = null;

  /** Windows `ids` were deleted. */
  protected forgetWindows(ids: readonly number[]): void {
    if (this.lastWritten && ids.includes(this.lastWritten.id)) this.lastWritten = null;
    if (this.summarised) this.summarised = this.summarised.filter((id) => !ids.includes(id));
  }

  protected override forgetCaches(): void {
    super.forgetCaches();
    this.forgetBacklog();
    this.lastWritten = null;
    this.summarised = null;
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

  /** Actions not covered by a posted summary, in arrival order (pending or in live raw notes). */
  uncoveredActions(coveredWindow: number): SlimAction[] {
    return this.actionsOf("SELECT actions FROM batches WHERE window_id > ? ORDER BY seq", coveredWindow);
  }

  window(id: number): WindowRow | null {
    if (this.lastWritten?.id === id) return { ...this.lastWritten };
    return this.first<WindowRow>("SELECT * FROM windows WHERE id = ?", id);
  }

  /**
   * What a summary call reads, in one statement: the closed windows without a summary from `first`
   * on, oldest first (at most `limit`), each with its actions in arrival order (what a catch-up
   * call may summarise together), and for a rolling prompt the summary it builds on, the newest
   * stored before `first` (none when no window waits).
   */
  summaryInput(first: number, limit: number, rolling: boolean): { windows: { id: number; actions: SlimAction[] }[]; previousSummary: string | null } {
    const previous = rolling ? "(SELECT summary FROM windows WHERE id < ? AND summary IS NOT NULL ORDER BY id DESC LIMIT 1)" : "NULL";
    const rows = this.all<{ window_id: number; actions: string; previous: string | null }>(
      `SELECT window_id, actions, ${previous} AS previous FROM batches
       WHERE window_id IN (SELECT DISTINCT window_id FROM batches, session WHERE ${WAITING} AND window_id >= ? ORDER BY window_id LIMIT ?)
       ORDER BY seq`,
      ...(rolling ? [first] : []),
      first,
      limit,
    );
    const byWindow = new Map<number, SlimAction[]>();
    for (const r of rows) {
      const actions = byWindow.get(r.window_id) ?? [];
      actions.push(...(JSON.parse(r.actions) as SlimAction[]));
      byWindow.set(r.window_id, actions);
    }
    const windows = [...byWindow].sort(([a], [b]) => a - b).map(([id, actions]) => ({ id, actions }));
    return { windows, previousSummary: rows[0]?.previous ?? null };
  }

  /**
   * One summary, stored on the span's newest window, covers the windows from `first` on (the SDK's
   * `replaces`: its count is their actions). A closed window has no row until then (its batches and
   * the session's position say it waits), so the summary is one row written, and the session's
   * own copy (what the context reads) another: its window and every earlier one are covered there.
   * `counters` and the memory step's progress ride on that session write; `closed_at` is the summary's time.
   * `reuseBelow`: the oldest stored summary at or below this window, which pruning drops once this
   * one is stored, has its row rewritten as this one's (one row written, where an insert and a
   * delete were two; one statement when there is one).
   */
  protected writeSummary(
    span: { first: number; last: number },
    summary: string,
    origin: SummaryOrigin,
    now: number,
    counters: readonly Counter[],
    reuseBelow: number | null,
  ): void {
    const values = [`(SELECT COALESCE(SUM(action_count), 0) FROM batches WHERE window_id BETWEEN ? AND ?)`, span.first, span.last, now, summary, now, origin, now] as const;
    const reused =
      reuseBelow === null
        ? null
        : this.first<WindowRow>(
            `UPDATE windows SET id = ?, action_count = ${values[0]}, closed_at = ?, summary = ?, summarised_at = ?, extractive = ?, posted_at = ?
             WHERE id = (SELECT MIN(id) FROM windows WHERE summary IS NOT NULL AND id <= ?) RETURNING *`,
            span.last,
            ...values.slice(1),
            reuseBelow,
          );
    // The row reused was the oldest stored (at or below `reuseBelow`): the list's first.
    if (this.summarised) this.summarised = [...this.summarised.slice(reused ? 1 : 0), span.last].sort((a, b) => a - b);
    this.lastWritten =
      reused ??
      this.first<WindowRow>(
        `INSERT INTO windows (id, action_count, closed_at, summary, summarised_at, extractive, posted_at) VALUES (?, ${values[0]}, ?, ?, ?, ?, ?) RETURNING *`,
        span.last,
        ...values.slice(1),
      );
    this.refreshSession(
      this.first<SessionRow>(
        `UPDATE session SET summaries = summaries + 1, covered_window = MAX(covered_window, ?)${counters.map((c) => `, ${c} = ${c} + 1`).join("")},
           memorised_window = MAX(memorised_window, ${MEMORISED_AHEAD}) WHERE id = 1 RETURNING *`,
        span.last,
        ...this.memorisedAhead(),
      ),
    );
  }

  /** The stored summaries' windows, ascending. */
  summarisedWindows(): readonly number[] {
    this.summarised ??= this.all<{ id: number }>("SELECT id FROM windows WHERE summary IS NOT NULL ORDER BY id").map((r) => r.id);
    return this.summarised;
  }

  /** Every summary still stored (posted or not), oldest first. */
  storedSummaries(): string[] {
    return this.all<{ summary: string }>("SELECT summary FROM windows WHERE summary IS NOT NULL ORDER BY id").map((r) => r.summary);
  }

  latestSummary(): WindowRow | null {
    return this.first<WindowRow>("SELECT * FROM windows WHERE posted_at IS NOT NULL ORDER BY id DESC LIMIT 1");
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
function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}
