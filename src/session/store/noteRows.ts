/**
 * @module
 * Notes: raw and summary notes, each in one lane, from prepared (before any I/O) to posted (with
 * the destination's part id) to redacted (deleted). Their counters are the lane's only (the
 * session's are the sums over its lanes, `LaneRows.noteCounts`), so a note's step writes one row
 * fewer.
 */
import type { SlimAction } from "../model";
import type { BatchRow, NoteRow } from "./schema";
import { SummaryRows } from "./summaryRows";

export class NoteRows extends SummaryRows {
  /** Prepares a raw note of the given batches (consecutive, oldest first) in a lane, before any I/O; the lane has now taken them. */
  createRawNote(lane: number, batches: readonly BatchRow[], body: string, link: string | null, now: number): number {
    const windowId = Math.max(...batches.map((b) => b.window_id));
    const from = batches[0]!.seq;
    const to = batches[batches.length - 1]!.seq;
    const id = this.insertNote(lane, "raw", windowId, body, link, now, from, to);
    this.sql.exec("UPDATE lanes SET delivered_seq = MAX(delivered_seq, ?) WHERE id = ?", to, lane);
    return id;
  }

  createSummaryNote(lane: number, windowId: number, body: string, link: string | null, now: number): number {
    return this.insertNote(lane, "summary", windowId, body, link, now, null, null);
  }

  /** The note is posted, found and redacted at its lane's destination (`notes.destination` is no longer written). */
  private insertNote(
    lane: number,
    kind: NoteRow["kind"],
    windowId: number,
    body: string,
    link: string | null,
    now: number,
    from: number | null,
    to: number | null,
  ): number {
    return this.first<{ id: number }>(
      "INSERT INTO notes (lane, kind, window_id, body, link, created_at, seq_from, seq_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      lane,
      kind,
      windowId,
      body,
      link,
      now,
      from,
      to,
    )!.id;
  }

  note(id: number): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE id = ?", id);
  }

  summaryNote(lane: number, windowId: number): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE lane = ? AND kind = 'summary' AND window_id = ?", lane, windowId);
  }

  inflightRawNote(lane: number): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE lane = ? AND kind = 'raw' AND posted_at IS NULL ORDER BY id LIMIT 1", lane);
  }

  /** The oldest summary note of the lane prepared but not confirmed posted: settled before any newer one. */
  inflightSummaryWindow(lane: number): number | null {
    return this.first<{ window_id: number }>("SELECT window_id FROM notes WHERE lane = ? AND kind = 'summary' AND posted_at IS NULL ORDER BY id LIMIT 1", lane)?.window_id ?? null;
  }

  liveNotes(): NoteRow[] {
    return this.all<NoteRow>("SELECT * FROM notes ORDER BY id");
  }

  /** Windows of the lane's live raw notes. */
  rawNoteWindows(lane: number): number[] {
    return this.all<{ window_id: number }>("SELECT DISTINCT window_id FROM notes WHERE lane = ? AND kind = 'raw'", lane).map((r) => r.window_id);
  }

  noteActions(note: Pick<NoteRow, "id" | "seq_from" | "seq_to">): SlimAction[] {
    return this.noteBatches(note).flat();
  }

  /** The note's actions batch by batch, as each was accepted. */
  noteBatches(note: Pick<NoteRow, "id" | "seq_from" | "seq_to">): SlimAction[][] {
    const rows =
      note.seq_from === null || note.seq_to === null
        ? this.all<{ actions: string }>("SELECT actions FROM batches WHERE note_id = ? ORDER BY seq", note.id)
        : this.all<{ actions: string }>("SELECT actions FROM batches WHERE seq BETWEEN ? AND ? ORDER BY seq", note.seq_from, note.seq_to);
    return rows.map((r) => JSON.parse(r.actions) as SlimAction[]);
  }

  markNotePosted(id: number, partId: string, now: number): void {
    this.sql.exec("UPDATE notes SET part_id = ?, posted_at = ? WHERE id = ?", partId, now, id);
  }

  /** The raw note is confirmed in its lane. */
  markRawPosted(lane: number, noteId: number, partId: string, now: number): void {
    this.markNotePosted(noteId, partId, now);
    this.sql.exec("UPDATE lanes SET raw_notes_posted = raw_notes_posted + 1 WHERE id = ?", lane);
  }

  /** The summary note is confirmed: in its lane, its window and every earlier one are now covered. */
  markSummaryPosted(lane: number, noteId: number, windowId: number, partId: string, now: number): void {
    this.markNotePosted(noteId, partId, now);
    this.sql.exec(
      "UPDATE lanes SET covered_window = MAX(covered_window, ?), summary_notes_posted = summary_notes_posted + 1 WHERE id = ?",
      windowId,
      lane,
    );
  }

  /** The note is gone from its lane's destination. */
  markRedacted(lane: number, noteId: number): void {
    this.sql.exec("DELETE FROM notes WHERE id = ?", noteId);
    this.sql.exec("UPDATE lanes SET redactions = redactions + 1 WHERE id = ?", lane);
  }

  /**
   * The lane's posted notes that its posted summaries cover (raw notes of covered windows,
   * superseded rolling summaries): the oldest, and how many there are.
   */
  toRedact(lane: number, coveredWindow: number, rolling: boolean): { next: number | null; count: number } {
    const summaries = rolling ? "OR (kind = 'summary' AND window_id < ?)" : "";
    const bindings = rolling ? [coveredWindow, coveredWindow] : [coveredWindow];
    const row = this.first<{ next: number | null; count: number }>(
      `SELECT MIN(id) AS next, COUNT(*) AS count FROM notes WHERE lane = ? AND posted_at IS NOT NULL AND ((kind = 'raw' AND window_id <= ?) ${summaries})`,
      lane,
      ...bindings,
    );
    return row ?? { next: null, count: 0 };
  }
}
