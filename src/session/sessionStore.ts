/**
 * @module
 * Every SQL statement the session actor runs, behind typed methods. Synchronous (SQLite-backed
 * Durable Object storage); callers group writes in `transactionSync` so each step commits whole.
 */
import type { SlimAction } from "./model";
import type { PlanInput, StepRow } from "./plan";

export interface SessionRow {
  product_id: string;
  session_id: string;
  epoch: string;
  created_at: number;
  last_action_at: number;
  link: string | null;
  linked_at: number | null;
  user_id: string | null;
  email: string | null;
  open_window: number;
  open_count: number;
  covered_window: number;
  flush_at: number | null;
  recent_keys: string;
  actions_accepted: number;
  batches_accepted: number;
  duplicates: number;
  raw_notes_posted: number;
  summaries: number;
  summary_notes_posted: number;
  redactions: number;
  llm_calls: number;
  llm_failures: number;
  summaries_rejected: number;
  step_failures: number;
  actions_held_back: number;
}

export type Counter =
  | "raw_notes_posted"
  | "summaries"
  | "summary_notes_posted"
  | "redactions"
  | "llm_calls"
  | "llm_failures"
  | "summaries_rejected"
  | "step_failures";

export interface BatchRow {
  seq: number;
  window_id: number;
  received_at: number;
  action_count: number;
  actions: string;
  note_id: number | null;
}

export interface WindowRow {
  id: number;
  action_count: number;
  closed_at: number;
  summary: string | null;
  summarised_at: number | null;
  extractive: number;
  posted_at: number | null;
}

export interface NoteRow {
  id: number;
  kind: "raw" | "summary";
  window_id: number;
  body: string;
  link: string | null;
  created_at: number;
  part_id: string | null;
  posted_at: number | null;
}

export interface StepRecord {
  key: string;
  kind: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  parked_at: number | null;
  unknown_outcome: number;
  updated_at: number;
}

/** Batch marker for actions held before a link and expired from the hold: never sent raw. */
export const HELD_BACK = -1;
/** Dedupe keys remembered per session (a retried POST arrives within seconds to minutes). */
export const RECENT_KEYS = 64;

type Row = Record<string, SqlStorageValue>;

/**
 * Batches waiting for a raw note: not in one yet, not held back, and not in a window that already
 * has a summary (that summary, posted next, covers them: sending them raw would only mean
 * redacting them again, which is what a link arriving after many actions would otherwise do).
 */
const PENDING = `note_id IS NULL AND window_id > ?
  AND window_id NOT IN (SELECT id FROM windows WHERE summary IS NOT NULL)`;

export class SessionStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql() {
    return this.storage.sql;
  }

  private all<T>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec<Row>(query, ...bindings).toArray() as unknown as T[];
  }

  private first<T>(query: string, ...bindings: unknown[]): T | null {
    return (this.all<T>(query, ...bindings)[0] ?? null) as T | null;
  }

  tx<T>(fn: () => T): T {
    return this.storage.transactionSync(fn);
  }

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

  /** Appends a batch to the open window; closes the window when it reaches the threshold. */
  appendBatch(
    s: SessionRow,
    actions: readonly SlimAction[],
    key: string,
    identity: { user_id: string | null; email: string | null; link: string | null },
    threshold: number,
    now: number,
  ): { closedWindow: boolean } {
    const keys = [...(JSON.parse(s.recent_keys) as string[]), key].slice(-RECENT_KEYS);
    let openWindow = s.open_window;
    let openCount = s.open_count + actions.length;
    let closedWindow = false;
    if (actions.length > 0) {
      this.sql.exec(
        "INSERT INTO batches (window_id, received_at, action_count, actions) VALUES (?, ?, ?, ?)",
        openWindow,
        now,
        actions.length,
        JSON.stringify(actions),
      );
      if (openCount >= threshold) {
        this.closeWindow(openWindow, openCount, now);
        openWindow += 1;
        openCount = 0;
        closedWindow = true;
      }
    }
    this.sql.exec(
      `UPDATE session SET open_window = ?, open_count = ?, recent_keys = ?, last_action_at = ?,
         actions_accepted = actions_accepted + ?, batches_accepted = batches_accepted + 1,
         user_id = COALESCE(?, user_id), email = COALESCE(?, email),
         link = COALESCE(link, ?), linked_at = CASE WHEN link IS NULL AND ? IS NOT NULL THEN ? ELSE linked_at END
       WHERE id = 1`,
      openWindow,
      openCount,
      JSON.stringify(keys),
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

  setFlushAt(now: number): void {
    this.sql.exec("UPDATE session SET flush_at = ? WHERE id = 1", now);
  }

  setLink(link: string, now: number): void {
    this.sql.exec("UPDATE session SET link = ?, linked_at = ? WHERE id = 1", link, now);
  }

  /** Before a link, raw actions are held for a sliding window; older ones are left to the summary. */
  holdBackBefore(cutoff: number): number {
    const held = this.first<{ n: number | null }>(
      "SELECT SUM(action_count) AS n FROM batches WHERE note_id IS NULL AND received_at < ?",
      cutoff,
    )?.n;
    if (!held) return 0;
    this.sql.exec("UPDATE batches SET note_id = ? WHERE note_id IS NULL AND received_at < ?", HELD_BACK, cutoff);
    this.sql.exec("UPDATE session SET actions_held_back = actions_held_back + ? WHERE id = 1", held);
    return held;
  }

  // ---- deliver -------------------------------------------------------------------------------

  /** Batches waiting for a raw note, oldest first, up to `maxActions` and within one window. */
  pendingBatches(coveredWindow: number, maxActions = Infinity): BatchRow[] {
    const rows = this.all<BatchRow>(`SELECT * FROM batches WHERE ${PENDING} ORDER BY seq`, coveredWindow);
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

  pendingSummary(coveredWindow: number): { firstAt: number; lastAt: number; actions: number } | null {
    const r = this.first<{ firstAt: number | null; lastAt: number | null; actions: number | null }>(
      `SELECT MIN(received_at) AS firstAt, MAX(received_at) AS lastAt, SUM(action_count) AS actions
       FROM batches WHERE ${PENDING}`,
      coveredWindow,
    );
    return r && r.firstAt !== null && r.lastAt !== null ? { firstAt: r.firstAt, lastAt: r.lastAt, actions: r.actions ?? 0 } : null;
  }

  /** Prepares a raw note for the given batches and assigns them to it, before any I/O. */
  createRawNote(batches: readonly BatchRow[], body: string, link: string | null, now: number): number {
    const windowId = Math.max(...batches.map((b) => b.window_id));
    const id = this.insertNote("raw", windowId, body, link, now);
    const seqs = batches.map((b) => b.seq);
    this.sql.exec(`UPDATE batches SET note_id = ? WHERE seq IN (${seqs.map(() => "?").join(",")})`, id, ...seqs);
    return id;
  }

  private insertNote(kind: "raw" | "summary", windowId: number, body: string, link: string | null, now: number): number {
    return this.first<{ id: number }>(
      "INSERT INTO notes (kind, window_id, body, link, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
      kind,
      windowId,
      body,
      link,
      now,
    )!.id;
  }

  inflightRawNote(): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE kind = 'raw' AND posted_at IS NULL ORDER BY id LIMIT 1");
  }

  note(id: number): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE id = ?", id);
  }

  liveNotes(): NoteRow[] {
    return this.all<NoteRow>("SELECT * FROM notes ORDER BY id");
  }

  noteActions(noteId: number): SlimAction[] {
    return this.all<{ actions: string }>("SELECT actions FROM batches WHERE note_id = ? ORDER BY seq", noteId).flatMap(
      (r) => JSON.parse(r.actions) as SlimAction[],
    );
  }

  markNotePosted(id: number, partId: string, now: number): void {
    this.sql.exec("UPDATE notes SET part_id = ?, posted_at = ? WHERE id = ?", partId, now, id);
  }

  // ---- summarise -----------------------------------------------------------------------------

  window(id: number): WindowRow | null {
    return this.first<WindowRow>("SELECT * FROM windows WHERE id = ?", id);
  }

  nextToSummarise(): number | null {
    return this.first<{ id: number }>("SELECT id FROM windows WHERE summary IS NULL ORDER BY id LIMIT 1")?.id ?? null;
  }

  windowActions(id: number): SlimAction[] {
    return this.all<{ actions: string }>("SELECT actions FROM batches WHERE window_id = ? ORDER BY seq", id).flatMap(
      (r) => JSON.parse(r.actions) as SlimAction[],
    );
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

  storeSummary(id: number, summary: string, extractive: boolean, now: number): void {
    this.sql.exec(
      "UPDATE windows SET summary = ?, summarised_at = ?, extractive = ? WHERE id = ? AND summary IS NULL",
      summary,
      now,
      extractive ? 1 : 0,
      id,
    );
  }

  /** Every summary still stored (posted or not), oldest first. */
  storedSummaries(): string[] {
    return this.all<{ summary: string }>("SELECT summary FROM windows WHERE summary IS NOT NULL ORDER BY id").map((r) => r.summary);
  }

  latestSummary(): WindowRow | null {
    return this.first<WindowRow>("SELECT * FROM windows WHERE posted_at IS NOT NULL ORDER BY id DESC LIMIT 1");
  }

  // ---- post summary --------------------------------------------------------------------------

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

  summaryNote(windowId: number): NoteRow | null {
    return this.first<NoteRow>("SELECT * FROM notes WHERE kind = 'summary' AND window_id = ?", windowId);
  }

  createSummaryNote(windowId: number, body: string, link: string | null, now: number): number {
    return this.insertNote("summary", windowId, body, link, now);
  }

  /** The summary note is confirmed: its window and every earlier one are now covered. */
  markSummaryPosted(noteId: number, windowId: number, partId: string, now: number): void {
    this.markNotePosted(noteId, partId, now);
    this.sql.exec("UPDATE windows SET posted_at = ? WHERE id <= ? AND posted_at IS NULL", now, windowId);
    this.sql.exec("UPDATE session SET covered_window = MAX(covered_window, ?) WHERE id = 1", windowId);
  }

  // ---- redact --------------------------------------------------------------------------------

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

  deleteNote(id: number): void {
    this.sql.exec("DELETE FROM notes WHERE id = ?", id);
  }

  /**
   * Keeps rows O(K): drops batches that a posted summary covers once their raw note is gone,
   * held-back batches whose window is summarised, windows older than the covering one, and
   * (independent mode) summary notes that are never redacted and no longer needed.
   */
  prune(rolling: boolean): void {
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

  // ---- steps ---------------------------------------------------------------------------------

  steps(): StepRecord[] {
    return this.all<StepRecord>("SELECT * FROM steps ORDER BY updated_at");
  }

  step(key: string): StepRecord | null {
    return this.first<StepRecord>("SELECT * FROM steps WHERE key = ?", key);
  }

  recordFailure(
    key: string,
    kind: string,
    attempts: number,
    nextAttemptAt: number,
    error: string,
    parked: boolean,
    unknownOutcome: boolean,
    now: number,
  ): void {
    this.sql.exec(
      `INSERT INTO steps (key, kind, attempts, next_attempt_at, last_error, parked_at, unknown_outcome, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
         last_error = excluded.last_error, parked_at = excluded.parked_at,
         unknown_outcome = MAX(steps.unknown_outcome, excluded.unknown_outcome), updated_at = excluded.updated_at`,
      key,
      kind,
      attempts,
      nextAttemptAt,
      error.slice(0, 500),
      parked ? now : null,
      unknownOutcome ? 1 : 0,
      now,
    );
    this.bump("step_failures");
  }

  clearStep(key: string): void {
    this.sql.exec("DELETE FROM steps WHERE key = ?", key);
  }

  /** Makes every waiting or parked step due now (flush, relink: "try again"). Attempts restart. */
  wakeSteps(now: number): void {
    this.sql.exec("UPDATE steps SET next_attempt_at = ?, parked_at = NULL, attempts = 0", now);
  }

  // ---- plan and inspection -------------------------------------------------------------------

  planInput(
    s: SessionRow,
    now: number,
    opts: Pick<PlanInput, "debounceMs" | "debounceMaxMs" | "canPost" | "llmBlockedUntil" | "idleCloseAt" | "expireAt">,
    rolling: boolean,
  ): PlanInput {
    const pending = this.pendingSummary(s.covered_window);
    const steps = new Map<string, StepRow>(
      this.steps().map((r) => [r.key, { attempts: r.attempts, nextAttemptAt: r.next_attempt_at, parked: r.parked_at !== null }]),
    );
    return {
      now,
      ...opts,
      pending: pending && { firstAt: pending.firstAt, lastAt: pending.lastAt },
      inflightRawNote: this.inflightRawNote()?.id ?? null,
      flushAt: s.flush_at,
      nextToSummarise: this.nextToSummarise(),
      nextToPost: this.nextToPost(rolling),
      nextToRedact: this.nextToRedact(s.covered_window, rolling),
      steps,
    };
  }

  /** Actions not covered by a posted summary, in arrival order (pending or in live raw notes). */
  uncoveredActions(coveredWindow: number): SlimAction[] {
    return this.all<{ actions: string }>(
      "SELECT actions FROM batches WHERE window_id > ? ORDER BY seq",
      coveredWindow,
    ).flatMap((r) => JSON.parse(r.actions) as SlimAction[]);
  }

  windowsSummary(): { closed: number; unsummarised: number; unposted: number } {
    return this.first<{ closed: number; unsummarised: number; unposted: number }>(
      `SELECT COUNT(*) AS closed, COALESCE(SUM(summary IS NULL), 0) AS unsummarised,
              COALESCE(SUM(summary IS NOT NULL AND posted_at IS NULL), 0) AS unposted FROM windows`,
    )!;
  }

  storageFigures(): { rows: number; bytes: number } {
    const rows = ["session", "batches", "windows", "notes", "steps"]
      .map((t) => this.first<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)!.n)
      .reduce((a, b) => a + b, 0);
    return { rows, bytes: this.sql.databaseSize };
  }
}
