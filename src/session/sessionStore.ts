/**
 * @module
 * Every SQL statement the session actor runs, behind typed methods. One flat API, written by
 * concept in `store/` (session row and counters, steps, windows and batches, notes, seen keys), each layer
 * building on the one before; this top layer holds what spans every table: the one read the
 * plan needs, pruning, and storage figures.
 */
import { TABLES_000, type SessionRow, type StepRow } from "./store/schema";
import { SeenKeyRows } from "./store/seenKeyRows";
import { HELD_BACK, type PendingBatches } from "./store/windowRows";

/** What the plan reads from storage, in one call. */
export interface PlanRows {
  session: SessionRow;
  pending: PendingBatches | null;
  /** A raw note prepared but not confirmed posted. */
  inflightRawNote: number | null;
  nextToSummarise: number | null;
  nextToPost: number | null;
  nextToRedact: number | null;
  steps: StepRow[];
}

export class SessionStore extends SeenKeyRows {
  /**
   * Everything the plan needs, or null when there is no session. Without an outbound destination
   * (the store) nothing is delivered or posted, so those reads are skipped; what is left to redact
   * elsewhere (notes posted before the product switched to the store) is still read.
   */
  planRows(rolling: boolean, outbound: boolean): PlanRows | null {
    const session = this.session();
    if (!session) return null;
    const covered = session.covered_window;
    return {
      session,
      pending: outbound ? this.pending(covered) : null,
      inflightRawNote: outbound ? (this.inflightRawNote()?.id ?? null) : null,
      nextToSummarise: this.nextToSummarise(),
      nextToPost: outbound ? this.nextToPost(rolling) : null,
      nextToRedact: this.nextToRedact(covered, rolling),
      steps: this.steps(),
    };
  }

  /**
   * Keeps rows O(K): drops batches that a posted summary covers once their raw note is gone,
   * held-back batches whose window is summarised, windows older than the covering one, and
   * (independent mode) summary notes that are never redacted and no longer needed.
   */
  prune(rolling: boolean): void {
    this.forgetBacklog();
    const s = this.session();
    if (!s) return;
    const p = s.covered_window;
    this.sql.exec(
      `DELETE FROM batches WHERE window_id <= ? AND (note_id IS NULL OR note_id = ? OR note_id NOT IN (SELECT id FROM notes))`,
      p,
      HELD_BACK,
    );
    this.sql.exec(
      "DELETE FROM batches WHERE note_id = ? AND window_id IN (SELECT id FROM windows WHERE summary IS NOT NULL)",
      HELD_BACK,
    );
    if (!rolling) this.sql.exec("DELETE FROM notes WHERE kind = 'summary' AND window_id < ? AND posted_at IS NOT NULL", p);
    this.sql.exec(
      "DELETE FROM windows WHERE id < ? AND NOT EXISTS (SELECT 1 FROM notes WHERE kind = 'summary' AND window_id = windows.id)",
      p,
    );
    if (rolling) {
      // Rolling summaries supersede older unposted ones; nothing will ever post those.
      this.sql.exec(
        `DELETE FROM windows WHERE posted_at IS NULL AND summary IS NOT NULL
           AND id < (SELECT MAX(id) FROM windows WHERE summary IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM notes WHERE kind = 'summary' AND window_id = windows.id)
           AND NOT EXISTS (SELECT 1 FROM batches WHERE window_id = windows.id AND note_id IS NULL)`,
      );
    }
  }

  /** `rows` are the O(K) tables; `seen_keys` grow with what arrived within the TTL, so they are counted apart. */
  storageFigures(): { rows: number; seen_keys: number; bytes: number } {
    const rows = Object.keys(TABLES_000).map((t) => this.first<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)!.n).reduce((a, b) => a + b, 0);
    return { rows, seen_keys: this.seenKeyCount(), bytes: this.sql.databaseSize };
  }
}
