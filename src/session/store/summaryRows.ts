/**
 * @module
 * Summaries' rows: what a summary call reads (its windows' actions, the rolling prompt's previous
 * summary), the row a summary is stored as, and the list of them, kept in memory between the writes
 * that change it (a window row is written once and only pruning removes it).
 */
import type { SummaryOrigin } from "../../llm/types";
import type { Footprint } from "../backlog";
import type { SlimAction } from "../model";
import type { SessionRow, WindowRow } from "./schema";
import { MEMORISED_AHEAD, type Counter } from "./sessionRows";
import { utf8Bytes, WAITING, WindowRows } from "./windowRows";

export class SummaryRows extends WindowRows {
  /**
   * The summary row last written, as written (`RETURNING *`): the steps that follow a summary (its
   * memory entry, each lane's post) read it from here. A window row never changes once written;
   * pruning drops it (`forgetWindows`), as do a rollback and an erase.
   */
  private lastWritten: WindowRow | null = null;

  /** What each window `summaryInput` last read adds to the backlog: a summary covering them moves the cached backlog on without a scan. */
  private readFootprints = new Map<number, Footprint>();

  /** The stored summaries' windows, ascending (null: read them), kept current by the writes below, as window rows change nowhere else. */
  private summarised: readonly number[] | null = null;

  /** Windows `ids` were deleted. */
  protected forgetWindows(ids: readonly number[]): void {
    if (this.lastWritten && ids.includes(this.lastWritten.id)) this.lastWritten = null;
    if (this.summarised) this.summarised = this.summarised.filter((id) => !ids.includes(id));
  }

  protected override forgetCaches(): void {
    super.forgetCaches();
    this.lastWritten = null;
    this.summarised = null;
    this.readFootprints.clear();
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
    this.readFootprints.clear();
    for (const r of rows) {
      const actions = byWindow.get(r.window_id) ?? [];
      const parsed = JSON.parse(r.actions) as SlimAction[];
      actions.push(...parsed);
      byWindow.set(r.window_id, actions);
      const f = this.readFootprints.get(r.window_id) ?? { actions: 0, bytes: 0 };
      this.readFootprints.set(r.window_id, { actions: f.actions + parsed.length, bytes: f.bytes + utf8Bytes(r.actions) });
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
    this.coverBacklog(span.last, this.readFootprints);
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

}
