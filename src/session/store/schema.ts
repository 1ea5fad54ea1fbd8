/**
 * @module
 * The session's tables, declared once: the first migration's DDL is built from these column
 * specs and every row type is derived from them, so a column is never written down twice.
 * A shipped description never changes; a later migration declares the columns it adds the same
 * way, and the row type becomes the intersection of both.
 */

/** Column name → SQLite column spec, as it appears in `CREATE TABLE`. */
type Columns = Readonly<Record<string, string>>;

export const TABLES_000 = {
  session: {
    id: "INTEGER PRIMARY KEY CHECK (id = 1)",
    product_id: "TEXT NOT NULL",
    session_id: "TEXT NOT NULL",
    epoch: "TEXT NOT NULL",
    created_at: "INTEGER NOT NULL",
    last_action_at: "INTEGER NOT NULL",
    link: "TEXT",
    linked_at: "INTEGER",
    user_id: "TEXT",
    email: "TEXT",
    open_window: "INTEGER NOT NULL DEFAULT 1",
    open_count: "INTEGER NOT NULL DEFAULT 0",
    covered_window: "INTEGER NOT NULL DEFAULT 0",
    flush_at: "INTEGER",
    recent_keys: "TEXT NOT NULL DEFAULT '[]'",
    actions_accepted: "INTEGER NOT NULL DEFAULT 0",
    batches_accepted: "INTEGER NOT NULL DEFAULT 0",
    duplicates: "INTEGER NOT NULL DEFAULT 0",
    raw_notes_posted: "INTEGER NOT NULL DEFAULT 0",
    summaries: "INTEGER NOT NULL DEFAULT 0",
    summary_notes_posted: "INTEGER NOT NULL DEFAULT 0",
    redactions: "INTEGER NOT NULL DEFAULT 0",
    llm_calls: "INTEGER NOT NULL DEFAULT 0",
    llm_failures: "INTEGER NOT NULL DEFAULT 0",
    summaries_rejected: "INTEGER NOT NULL DEFAULT 0",
    step_failures: "INTEGER NOT NULL DEFAULT 0",
    actions_held_back: "INTEGER NOT NULL DEFAULT 0",
  },
  batches: {
    seq: "INTEGER PRIMARY KEY AUTOINCREMENT",
    window_id: "INTEGER NOT NULL",
    received_at: "INTEGER NOT NULL",
    action_count: "INTEGER NOT NULL",
    actions: "TEXT NOT NULL",
    note_id: "INTEGER",
  },
  windows: {
    id: "INTEGER PRIMARY KEY",
    action_count: "INTEGER NOT NULL",
    closed_at: "INTEGER NOT NULL",
    summary: "TEXT",
    summarised_at: "INTEGER",
    extractive: "INTEGER NOT NULL DEFAULT 0",
    posted_at: "INTEGER",
  },
  notes: {
    id: "INTEGER PRIMARY KEY AUTOINCREMENT",
    kind: "TEXT NOT NULL CHECK (kind IN ('raw', 'summary'))",
    window_id: "INTEGER NOT NULL",
    body: "TEXT NOT NULL",
    link: "TEXT",
    created_at: "INTEGER NOT NULL",
    part_id: "TEXT",
    posted_at: "INTEGER",
  },
  steps: {
    key: "TEXT PRIMARY KEY",
    kind: "TEXT NOT NULL",
    attempts: "INTEGER NOT NULL",
    next_attempt_at: "INTEGER NOT NULL",
    last_error: "TEXT",
    parked_at: "INTEGER",
    unknown_outcome: "INTEGER NOT NULL DEFAULT 0",
    updated_at: "INTEGER NOT NULL",
  },
} as const satisfies Record<string, Columns>;

export const INDEXES_000 = [
  "CREATE INDEX batches_by_note ON batches (note_id, seq)",
  "CREATE INDEX batches_by_window ON batches (window_id, seq)",
] as const;

/**
 * `001_seen_keys`: what a session has already applied, by key, for `IDEMPOTENCY_TTL_MS`
 * (Idempotency-Keys with their request's fingerprint, batch content hashes, source event ids).
 * Replaces the session row's `recent_keys` (the last 64 keys), which the migration copies in.
 */
export const TABLES_001 = {
  seen_keys: {
    key: "TEXT PRIMARY KEY",
    /** The request's fingerprint for an Idempotency-Key row; null for keys that are their own content. */
    fingerprint: "TEXT",
    seen_at: "INTEGER NOT NULL",
  },
} as const satisfies Record<string, Columns>;

// Pruning by age walks this index, so it costs what it deletes.
export const INDEXES_001 = ["CREATE INDEX seen_keys_by_age ON seen_keys (seen_at)"] as const;

/** The DDL for a set of tables and indexes, in declaration order. */
export function schemaSql(tables: Readonly<Record<string, Columns>>, indexes: readonly string[]): string {
  const creates = Object.entries(tables).map(
    ([name, columns]) => `CREATE TABLE ${name} (\n${Object.entries(columns).map(([c, spec]) => `  ${c} ${spec}`).join(",\n")}\n)`,
  );
  return [...creates, ...indexes].map((statement) => `${statement};`).join("\n");
}

/** `'a', 'b'` (a CHECK … IN list) → "a" | "b". */
type Quoted<L extends string> = L extends `'${infer A}', ${infer Rest}` ? A | Quoted<Rest> : L extends `'${infer A}'` ? A : never;
type TextValue<S extends string> = S extends `${string} IN (${infer L})${string}` ? Quoted<L> : string;
type BaseValue<S extends string> = S extends `INTEGER${string}` ? number : S extends `TEXT${string}` ? TextValue<S> : never;
type NullValue<S extends string> = S extends `${string}NOT NULL${string}` | `${string}PRIMARY KEY${string}` ? never : null;

/** The row `SELECT *` returns for a table description. */
type RowOf<T extends Columns> = { -readonly [C in keyof T]: BaseValue<T[C]> | NullValue<T[C]> };

export type SessionRow = RowOf<typeof TABLES_000.session>;
export type BatchRow = RowOf<typeof TABLES_000.batches>;
export type WindowRow = RowOf<typeof TABLES_000.windows>;
export type NoteRow = RowOf<typeof TABLES_000.notes>;
export type StepRow = RowOf<typeof TABLES_000.steps>;
export type SeenKeyRow = RowOf<typeof TABLES_001.seen_keys>;
