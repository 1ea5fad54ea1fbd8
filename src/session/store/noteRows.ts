/**
 * @module
 * Notes: raw and summary notes, from prepared (before any I/O) to posted (with the destination's
 * part id) to redacted (deleted). Which note the destination lane handles next is read here too.
 */
import type { SlimAction } from "../model";
import type { BatchRow, NoteRow } from "./schema";
import { WindowRows } from "./windowRows";

export class NoteRows extends WindowRows {
  /** Prepares a raw note for the given batches and assigns them to it, before any I/O. */
  createRawNote(batches: readonly BatchRow[], body: string, link: string | null, now: number, destination: string | null = null): number {
    const windowId = Math.max(...batches.map((b) => b.window_id));
    const id = this.insertNote("raw", windowId, body, link, now, destination);
    const seqs = batches.map((b) => b.seq);
    this.sql.exec(`UPDATE batches SET note_id = ? WHERE seq IN (${seqs.map(() => "?").join(",")})`, id, ...seqs);
    return id;
  }

  createSummaryNote(windowId: number, body: string, link: string | null, now: number, destination: string | null = null): number {
    return this.insertNote("summary", windowId, body, link, now, destination);
  }

  /** `destination`: the entry (JSON) the note is prepared for; it is posted, found and redacted there. */
  private insertNote(kind: NoteRow["kind"], windowId: number, body: string, link: string | null, now: number, destination: string | null): number {
    return this.first<{ id: number }>(
      "INSERT INTO notes (kind, window_id, body, link, created_at, destination) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      kind,
      windowId,
      body,
      link,
      now,
      destination,
    )!.id;
  }

  note(id: number): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE id = ?", id);
  }

  summaryNote(windowId: number): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE kind = 'summary' AND window_id = ?", windowId);
  }

  inflightRawNote(): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE kind = 'raw' AND posted_at IS NULL ORDER BY id LIMIT 1");
  }

  liveNotes(): NoteRow[] {
    return this.all<NoteRow>("SELECT * FROM notes ORDER BY id");
  }

  noteActions(noteId: number): SlimAction[] {
    return this.actionsOf("SELECT actions FROM batches WHERE note_id = ? ORDER BY seq", noteId);
  }

  markNotePosted(id: number, partId: string, now: number): void {
    this.sql.exec("UPDATE notes SET part_id = ?, posted_at = ? WHERE id = ?", partId, now, id);
  }

  /** The summary note is confirmed: its window and every earlier one are now covered. */
  markSummaryPosted(noteId: number, windowId: number, partId: string, now: number): void {
    this.markNotePosted(noteId, partId, now);
    this.markCovered(windowId, now);
  }

  deleteNote(id: number): void {
    this.sql.exec("DELETE FROM notes WHERE id = ?", id);
  }

  /**
   * The next summary to post. Independent summaries go out one by one in window order; a rolling
   * summary covers everything before it, so only the newest summarised window needs posting.
   */
  nextToPost(rolling: boolean): number | null {
    // A summary note already prepared (maybe posted, outcome unknown) is settled before any newer one.
    const inflight = this.first<{ window_id: number }>(
      "SELECT window_id FROM notes WHERE kind = 'summary' AND posted_at IS NULL ORDER BY id LIMIT 1",
    );
    if (inflight) return inflight.window_id;
    const order = rolling ? "DESC" : "ASC";
    return (
      this.first<{ id: number }>(
        `SELECT id FROM windows WHERE summary IS NOT NULL AND posted_at IS NULL ORDER BY id ${order} LIMIT 1`,
      )?.id ?? null
    );
  }

  /** Oldest posted note that posted summaries cover: raw notes of covered windows, superseded rolling summaries. */
  nextToRedact(coveredWindow: number, rolling: boolean): number | null {
    const summaries = rolling ? "OR (kind = 'summary' AND window_id < ?)" : "";
    const bindings = rolling ? [coveredWindow, coveredWindow] : [coveredWindow];
    return (
      this.first<{ id: number }>(
        `SELECT id FROM notes WHERE posted_at IS NOT NULL AND ((kind = 'raw' AND window_id <= ?) ${summaries})
         ORDER BY id LIMIT 1`,
        ...bindings,
      )?.id ?? null
    );
  }
}
