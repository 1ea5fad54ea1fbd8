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

export class SessionRows extends SqlStore {
  session(): SessionRow | null {
    return this.first<SessionRow>("SELECT * FROM session WHERE id = 1");
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

  bump(counter: Counter, by = 1): void {
    this.sql.exec(`UPDATE session SET ${counter} = ${counter} + ? WHERE id = 1`, by);
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

  /** The memory step wrote window `id`'s summary: it is never sent again. */
  markMemorised(id: number): void {
    this.sql.exec("UPDATE session SET memorised_window = MAX(memorised_window, ?) WHERE id = 1", id);
  }

  setLink(link: string, now: number): void {
    this.sql.exec("UPDATE session SET link = ?, linked_at = ? WHERE id = 1", link, now);
  }
}
