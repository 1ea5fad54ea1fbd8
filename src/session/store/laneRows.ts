/**
 * @module
 * Lanes: one per outbound destination of the session (its entry, JSON), each with how far its raw
 * notes have taken the batches and how far its posted summaries cover. What a lane still needs
 * from the shared rows is decided in `session/lanes.ts`; this layer reads and writes it.
 */
import { rawFloor, startingPosition, summariesToPost } from "../lanes";
import type { BatchRow, LaneRow, NoteRow, SessionRow } from "./schema";
import { NoteRows } from "./noteRows";
import type { PendingBatches } from "./windowRows";

export type NoteCounts = Pick<LaneRow, "raw_notes_posted" | "summary_notes_posted" | "redactions">;

/** A lane's pending batches: not taken by its raw notes, in windows it has not covered nor skipped (`rawFloor`). */
const LANE_PENDING = "seq > ? AND window_id > ?";

export class LaneRows extends NoteRows {
  /** The session is known to have no lane (its only destination is its own store): the plan skips reading them. */
  private noLanes = false;

  lanes(): LaneRow[] {
    if (this.noLanes) return [];
    const lanes = this.memo("lanes", () => this.all<LaneRow>("SELECT * FROM lanes ORDER BY id"));
    this.noLanes = lanes.length === 0;
    return lanes;
  }

  protected override forgetCaches(): void {
    super.forgetCaches();
    this.noLanes = false;
  }

  /** The session's note counters: the sums over its lanes (a removed lane's go with it). */
  noteCounts(): NoteCounts {
    return this.first<NoteCounts>(
      `SELECT COALESCE(SUM(raw_notes_posted), 0) AS raw_notes_posted, COALESCE(SUM(summary_notes_posted), 0) AS summary_notes_posted,
              COALESCE(SUM(redactions), 0) AS redactions FROM lanes`,
    )!;
  }

  lane(id: number): LaneRow | null {
    return this.first<LaneRow>("SELECT * FROM lanes WHERE id = ?", id);
  }

  /**
   * Makes the lanes those of `entries` (outbound destinations, as JSON): a new one starts from the
   * current context (the latest summary, then the raw since); a removed one is forgotten with its
   * notes and steps (what it posted stays at its destination). A lane a migration carried over
   * without its entry ('') becomes the first new entry. Says whether a lane was removed (rows it
   * kept may be pruned now).
   */
  syncLanes(entries: readonly string[], now: number): boolean {
    const lanes = this.lanes();
    const wanted = new Set(entries);
    let removed = false;
    const unnamed = lanes.find((l) => l.destination === "");
    const adopter = entries.find((e) => !lanes.some((l) => l.destination === e));
    if (unnamed && adopter !== undefined) {
      this.sql.exec("UPDATE lanes SET destination = ? WHERE id = ?", adopter, unnamed.id);
      unnamed.destination = adopter;
    }
    for (const lane of lanes) {
      if (wanted.has(lane.destination)) continue;
      this.removeLane(lane.id);
      removed = true;
    }
    const have = new Set(lanes.map((l) => l.destination));
    for (const entry of entries) {
      if (!have.has(entry)) this.addLane(entry, now);
    }
    return removed;
  }

  private addLane(entry: string, now: number): void {
    this.noLanes = false;
    const own = this.session()?.covered_window ?? 0;
    const { covered } = startingPosition(own);
    this.sql.exec(
      `INSERT INTO lanes (id, destination, delivered_seq, covered_window, added_at)
       VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM lanes), ?, (SELECT COALESCE(MAX(seq), 0) FROM batches WHERE window_id <= ?), ?, ?)`,
      entry,
      own,
      covered,
      now,
    );
  }

  private removeLane(id: number): void {
    const notes = this.all<{ id: number }>("SELECT id FROM notes WHERE lane = ?", id).map((r) => r.id);
    const keys = notes.flatMap((n) => [`deliver:${n}`, `redact:${n}`]);
    for (const key of keys) this.sql.exec("DELETE FROM steps WHERE key = ?", key);
    this.sql.exec("DELETE FROM steps WHERE key = ? OR key LIKE ?", `deliver:${id}:new`, `post:${id}:%`);
    this.sql.exec("DELETE FROM notes WHERE lane = ?", id);
    this.sql.exec("DELETE FROM lanes WHERE id = ?", id);
  }

  /** The lane's batches waiting for a raw note, oldest first, up to `maxActions` and within one window. */
  pendingBatches(lane: LaneRow, s: Pick<SessionRow, "covered_window">, maxActions = Infinity): BatchRow[] {
    const rows = this.all<BatchRow>(`SELECT * FROM batches WHERE ${LANE_PENDING} ORDER BY seq`, lane.delivered_seq, rawFloor({ covered: lane.covered_window }, s.covered_window));
    const picked: BatchRow[] = [];
    let total = 0;
    for (const r of rows) {
      // A raw note never spans windows, so the summary of its window is exactly what covers it.
      if (picked.length > 0 && (total + r.action_count > maxActions || r.window_id !== picked[0]!.window_id)) break;
      picked.push(r);
      total += r.action_count;
    }
    return picked;
  }

  pending(lane: LaneRow, s: Pick<SessionRow, "covered_window">): PendingBatches | null {
    const r = this.first<{ firstAt: number | null; lastAt: number | null; actions: number | null; oldestWindow: number | null }>(
      `SELECT MIN(received_at) AS firstAt, MAX(received_at) AS lastAt, SUM(action_count) AS actions, MIN(window_id) AS oldestWindow
       FROM batches WHERE ${LANE_PENDING}`,
      lane.delivered_seq,
      rawFloor({ covered: lane.covered_window }, s.covered_window),
    );
    if (!r || r.firstAt === null || r.lastAt === null || r.oldestWindow === null) return null;
    return { firstAt: r.firstAt, lastAt: r.lastAt, actions: r.actions ?? 0, window: r.oldestWindow };
  }

  /**
   * Before a link, a lane that needs one holds raw actions for a sliding window; older ones, and
   * those a summary already holds, are left to the summary (the lane skips them). Returns how many
   * actions it held back now.
   */
  holdBack(lane: LaneRow, s: Pick<SessionRow, "covered_window">, cutoff: number): number {
    const held = this.first<{ upto: number | null; n: number | null }>(
      `SELECT MAX(seq) AS upto, SUM(action_count) AS n FROM batches
       WHERE ${LANE_PENDING} AND (received_at < ? OR window_id <= ?)`,
      lane.delivered_seq,
      rawFloor({ covered: lane.covered_window }, s.covered_window),
      cutoff,
      s.covered_window,
    );
    if (!held?.upto || !held.n) return 0;
    this.sql.exec("UPDATE lanes SET delivered_seq = ? WHERE id = ?", held.upto, lane.id);
    return held.n;
  }

  /** The lane's notes for `link` ('' for none) go to `thread` from now on (`Destination.openThread`). */
  setLaneThread(id: number, link: string, thread: string): void {
    this.sql.exec("UPDATE lanes SET thread_of = ?, thread = ? WHERE id = ?", link, thread, id);
  }

  /** DELIVERY=replace: the lane's context message for `link` ('' for none) is `partId`. */
  setContextPart(id: number, link: string, partId: string): void {
    this.sql.exec("UPDATE lanes SET context_of = ?, context_part = ? WHERE id = ?", link, partId, id);
  }

  /**
   * DELIVERY=replace: the context message no longer shows what the lane's posted summaries cover (raw
   * notes of covered windows, earlier summaries), so those notes are forgotten; nothing is redacted.
   */
  dropReplaced(id: number): void {
    const covered = this.lane(id)?.covered_window ?? 0;
    this.sql.exec(
      "DELETE FROM notes WHERE lane = ? AND posted_at IS NOT NULL AND window_id <= ? AND (kind = 'raw' OR window_id < ?)",
      id,
      covered,
      covered,
    );
  }

  /**
   * The lane's notes, posted or prepared, oldest first: under DELIVERY=replace, what its context
   * message shows (a prepared note may have landed already with an answer that was lost).
   */
  laneNotes(lane: number): NoteRow[] {
    return this.all<NoteRow>("SELECT * FROM notes WHERE lane = ? ORDER BY id", lane);
  }

  bumpLane(id: number, counter: "step_failures"): void {
    this.sql.exec(`UPDATE lanes SET ${counter} = ${counter} + 1 WHERE id = ?`, id);
  }

  countHeldBack(n: number): void {
    if (n > 0) this.sql.exec("UPDATE session SET actions_held_back = actions_held_back + ? WHERE id = 1", n);
  }

  /**
   * The next summary the lane posts: one it prepared and has not confirmed first, else the oldest
   * it still needs (`session/lanes.ts`). `summarised`: the stored summaries' windows, when read already.
   */
  nextToPost(lane: LaneRow, rolling: boolean, summarised: readonly number[] = this.summarisedWindows()): number | null {
    const inflight = this.inflightSummaryWindow(lane.id);
    if (inflight !== null) return inflight;
    const newest = summarised.at(-1);
    // Nothing newer than what the lane covers: no need to read its raw notes.
    if (newest === undefined || newest <= lane.covered_window) return null;
    return summariesToPost({ covered: lane.covered_window }, summarised, this.rawNoteWindows(lane.id), rolling)[0] ?? null;
  }
}
