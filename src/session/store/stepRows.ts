/**
 * @module
 * Step rows: one per step that has not succeeded yet (its attempts, when to try again, the last
 * error, whether it is parked). A step that succeeds leaves no row.
 */
import type { StepRow } from "./schema";
import { SessionRows } from "./sessionRows";

/** Stored `last_error` is cut to this many characters. */
const MAX_ERROR_CHARS = 500;

/** Why a step is waiting and until when. A step parked again keeps the time it was first parked. */
export interface StepWait {
  key: string;
  kind: string;
  attempts: number;
  nextAttemptAt: number;
  error: string;
  parked: boolean;
  /** The last try may have landed: reconcile before sending again. Once set, it stays set. */
  unknownOutcome: boolean;
}

export class StepRows extends SessionRows {
  /** Every step row, oldest change first (the plan's read answers it until the next write). */
  steps(): StepRow[] {
    return this.memo("steps", () => this.all<StepRow>("SELECT * FROM steps ORDER BY updated_at"));
  }

  step(key: string): StepRow | null {
    const known = this.recall<StepRow[]>("steps");
    if (known) return known.find((r) => r.key === key) ?? null;
    return this.first<StepRow>("SELECT * FROM steps WHERE key = ?", key);
  }

  recordStep(wait: StepWait, now: number): void {
    this.sql.exec(
      `INSERT INTO steps (key, kind, attempts, next_attempt_at, last_error, parked_at, unknown_outcome, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
         last_error = excluded.last_error,
         parked_at = CASE WHEN excluded.parked_at IS NULL THEN NULL ELSE COALESCE(steps.parked_at, excluded.parked_at) END,
         unknown_outcome = MAX(steps.unknown_outcome, excluded.unknown_outcome), updated_at = excluded.updated_at`,
      wait.key,
      wait.kind,
      wait.attempts,
      wait.nextAttemptAt,
      wait.error.slice(0, MAX_ERROR_CHARS),
      wait.parked ? now : null,
      wait.unknownOutcome ? 1 : 0,
      now,
    );
  }

  clearStep(key: string): void {
    this.sql.exec("DELETE FROM steps WHERE key = ?", key);
  }

  /** Makes every waiting or parked step due now (flush, relink: "try again"). Attempts restart. */
  wakeSteps(now: number): void {
    this.sql.exec("UPDATE steps SET next_attempt_at = ?, parked_at = NULL, attempts = 0", now);
  }
}
