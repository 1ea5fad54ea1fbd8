/**
 * @module
 * Every SQL statement the session actor runs, behind typed methods. One flat API, written by
 * concept in `store/` (session row and counters, steps, windows and batches, notes, lanes, seen
 * keys), each layer building on the one before; this top layer holds what spans every table: the
 * one read the plan needs, pruning, and storage figures.
 */
import { LANE_MAX_LAG_WINDOWS, summariesToPost } from "./lanes";
import { memoryFloor } from "./memorising";
import { CURRENT_TABLES, TABLES_000, type BatchRow, type SessionRow, type StepRow, type WindowRow } from "./store/schema";
import type { TimelineRows } from "./timeline";
import { SeenKeyRows } from "./store/seenKeyRows";
import type { Counter } from "./store/sessionRows";
import type { SummaryOrigin } from "../llm/types";
import { WAITING, type PendingBatches } from "./store/windowRows";

/** What the plan reads of one lane. */
export interface LanePlanRows {
  id: number;
  destination: string;
  pending: PendingBatches | null;
  /** A raw note prepared but not confirmed posted. */
  inflightRawNote: number | null;
  nextToPost: number | null;
  nextToRedact: number | null;
  /** How many of the lane's posted notes its posted summaries cover (redactions due). */
  redactable: number;
}

/** What the plan reads from storage, in one call. */
export interface PlanRows {
  session: SessionRow;
  lanes: LanePlanRows[];
  nextToSummarise: number | null;
  /** The oldest stored summary not yet in the product's memory. */
  nextToMemorise: number | null;
  steps: StepRow[];
}

/** A step row's columns as `json_object` arguments. */
const STEP_COLUMNS = Object.keys(TABLES_000.steps).map((c) => `'${c}', ${c}`).join(", ");

export class SessionStore extends SeenKeyRows {
  /** Whether pruning keeps the summaries memory has not received (`session/memorising.ts`): set while memory is on. */
  private holdsForMemory = false;

  holdForMemory(on: boolean): void {
    this.holdsForMemory = on;
  }

  /**
   * Everything the plan needs, or null when there is no session: one statement, and the lanes' when
   * it has any; none when nothing was written since the last plan. The memory step's progress
   * changes without a write, so the summary it sends next is found in the stored summaries' list.
   */
  planRows(rolling: boolean): PlanRows | null {
    const rows = this.memo(`plan:${rolling}`, () => this.readPlanRows(rolling));
    if (!rows) return null;
    const session = this.withMemorised(rows.session);
    return { ...rows, session, nextToMemorise: this.summarisedWindows().find((w) => w > session.memorised_window) ?? null };
  }

  private readPlanRows(rolling: boolean): Omit<PlanRows, "nextToMemorise"> | null {
    const read = this.sessionWith<{ plan_next_to_summarise: number | null; plan_steps: string }>(
      `, (SELECT MIN(window_id) FROM batches WHERE ${WAITING}) AS plan_next_to_summarise,
         (SELECT json_group_array(json_object(${STEP_COLUMNS})) FROM (SELECT * FROM steps ORDER BY updated_at)) AS plan_steps`,
    );
    if (!read) return null;
    const { session, extra } = read;
    const lanes = this.lanes();
    const summarised = lanes.length > 0 ? this.summarisedWindows() : [];
    const steps = JSON.parse(extra.plan_steps) as StepRow[];
    this.remember("steps", steps);
    return {
      session,
      lanes: lanes.map((lane) => {
        const redact = this.toRedact(lane.id, lane.covered_window, rolling);
        return {
          id: lane.id,
          destination: lane.destination,
          pending: this.pending(lane, session),
          inflightRawNote: this.inflightRawNote(lane.id)?.id ?? null,
          nextToPost: this.nextToPost(lane, rolling, summarised),
          nextToRedact: redact.next,
          redactable: redact.count,
        };
      }),
      nextToSummarise: extra.plan_next_to_summarise,
      steps,
    };
  }

  /**
   * Stores a summary (`writeSummary`). A session with no lane reuses the row of the oldest stored
   * summary that pruning would drop next (one that memory, when on, already has), as pruning then
   * drops exactly those: no lane posts them, no note holds them.
   */
  storeSummary(span: { first: number; last: number }, summary: string, origin: SummaryOrigin, now: number, counters: readonly Counter[] = []): void {
    const s = this.session();
    const reuseBelow = s && this.lanes().length === 0 ? Math.min(span.first - 1, this.holdsForMemory ? memoryFloor(s.memorised_window, span.last) : span.last) : null;
    this.writeSummary(span, summary, origin, now, counters, reuseBelow);
  }

  /**
   * Keeps rows O(K) per lane (`session/lanes.ts`): drops the batches of windows the session's own
   * summary covers that no lane still sends raw (nor holds in a note it has not confirmed), the summarised windows no
   * lane still posts (counting, in independent mode, those a lane skips), and (independent mode)
   * summary notes a lane has superseded, which are never redacted.
   */
  prune(rolling: boolean): void {
    const s = this.session();
    if (!s) return;
    const own = s.covered_window;
    this.sql.exec(
      `DELETE FROM batches WHERE window_id <= ?
         AND NOT EXISTS (SELECT 1 FROM lanes WHERE batches.seq > lanes.delivered_seq AND batches.window_id > MAX(lanes.covered_window, ? - ?))
         AND NOT EXISTS (SELECT 1 FROM notes WHERE kind = 'raw' AND posted_at IS NULL AND batches.seq BETWEEN notes.seq_from AND notes.seq_to)`,
      own,
      own,
      LANE_MAX_LAG_WINDOWS,
    );
    const lanes = this.lanes();
    if (!rolling) {
      this.sql.exec(
        "DELETE FROM notes WHERE kind = 'summary' AND posted_at IS NOT NULL AND window_id < (SELECT covered_window FROM lanes WHERE lanes.id = notes.lane)",
      );
    }
    const summarised = this.summarisedWindows();
    const older = summarised.filter((w) => w < own);
    if (older.length === 0) return;
    const needed = new Set<number>();
    for (const lane of lanes) {
      for (const w of summariesToPost({ covered: lane.covered_window }, summarised, this.rawNoteWindows(lane.id), rolling)) needed.add(w);
    }
    const noted = new Set(this.all<{ window_id: number }>("SELECT window_id FROM notes WHERE kind = 'summary'").map((r) => r.window_id));
    const floor = this.holdsForMemory ? memoryFloor(s.memorised_window, own) : Infinity;
    const dropped = older.filter((w) => !needed.has(w) && !noted.has(w) && w <= floor);
    if (dropped.length === 0) return;
    if (!rolling) {
      for (const lane of lanes) {
        const skipped = dropped.filter((w) => w > lane.covered_window).length;
        if (skipped > 0) this.sql.exec("UPDATE lanes SET summaries_skipped = summaries_skipped + ? WHERE id = ?", skipped, lane.id);
      }
    }
    this.sql.exec(`DELETE FROM windows WHERE id IN (${dropped.map(() => "?").join(",")})`, ...dropped);
    this.forgetWindows(dropped);
  }

  /** Every live row a timeline shows (the console's `…/timeline`), or null when there is no session. */
  timelineRows(): TimelineRows | null {
    const session = this.session();
    if (!session) return null;
    const batches = this.all<BatchRow>("SELECT * FROM batches ORDER BY seq");
    const windows = this.all<WindowRow>("SELECT * FROM windows ORDER BY id");
    return { session, batches, windows, notes: this.liveNotes(), lanes: this.lanes(), steps: this.steps() };
  }

  /** `rows` are the O(K) tables; `seen_keys` grow with what arrived within the TTL, so they are counted apart. */
  storageFigures(): { rows: number; seen_keys: number; bytes: number } {
    const tables = Object.keys(CURRENT_TABLES).filter((t) => t !== "seen_keys");
    const rows = tables.map((t) => this.first<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)!.n).reduce((a, b) => a + b, 0);
    return { rows, seen_keys: this.seenKeyCount(), bytes: this.sql.databaseSize };
  }
}

