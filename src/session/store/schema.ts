/**
 * @module
 * The session's tables, declared once: the first migration's DDL is built from these column
 * specs and every row type is derived from them, so a column is never written down twice.
 * A shipped description never changes; a later migration declares the columns it adds the same
 * way, and the row type becomes the intersection of both.
 */

import type { Columns, RowOf } from "../../storage/tables";

export { addColumnsSql, schemaSql } from "../../storage/tables";

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

/**
 * `002_products`: the session index (what was last written to the product's index, so the index
 * step knows when it is due: `session/indexing.ts`) and, per note, the destination entry it was
 * prepared for (non-secret settings and secret names, JSON), so a note is posted, found and
 * redacted where it went even after the product's settings change.
 */
export const COLUMNS_002 = {
  session: {
    indexed_state: "TEXT",
    indexed_activity_at: "INTEGER",
    indexed_at: "INTEGER",
  },
  notes: {
    destination: "TEXT",
  },
} as const satisfies Record<string, Columns>;

/**
 * 003 rebuilds the two tables every batch writes, for fewer rows written (what Durable Objects
 * bill most): `batches` without AUTOINCREMENT (its `sqlite_sequence` update was a write per batch;
 * a plain rowid still grows past every stored batch, which is all the order needs) and without the
 * by-note index (a note's batches are found among the session's few live ones); `seen_keys` WITHOUT
 * ROWID and without the age index (one write per key instead of three, and one per expiry; the
 * scan that forgets expired keys runs at most every ten minutes and reads only).
 */
export const TABLES_003 = {
  batches_003: { ...TABLES_000.batches, seq: "INTEGER PRIMARY KEY" },
  seen_keys_003: TABLES_001.seen_keys,
} as const satisfies Record<string, Columns>;

/**
 * `005_lanes`: one lane per outbound destination of the session (fan-out). The lane is the
 * destination's entry (JSON, its identity); `delivered_seq` is how far its raw notes have taken
 * the batches (every batch with a seq up to it is in a raw note of the lane, or skipped for it),
 * `covered_window` how far the summaries posted in it cover. A note belongs to one lane; a raw
 * note holds the batches with seq from `seq_from` to `seq_to`. `batches.note_id` and
 * `notes.destination` (the lane holds it) are no longer written, and `session.covered_window` becomes the session's own coverage (its newest stored
 * summary: the context endpoint reads the session's own copy whatever its lanes hold).
 */
export const TABLES_005 = {
  lanes: {
    id: "INTEGER PRIMARY KEY",
    // One lane per entry (`LaneRows.syncLanes`); no UNIQUE index, which would cost a write per lane.
    destination: "TEXT NOT NULL",
    delivered_seq: "INTEGER NOT NULL DEFAULT 0",
    covered_window: "INTEGER NOT NULL DEFAULT 0",
    added_at: "INTEGER NOT NULL",
    raw_notes_posted: "INTEGER NOT NULL DEFAULT 0",
    summary_notes_posted: "INTEGER NOT NULL DEFAULT 0",
    redactions: "INTEGER NOT NULL DEFAULT 0",
    step_failures: "INTEGER NOT NULL DEFAULT 0",
    summaries_skipped: "INTEGER NOT NULL DEFAULT 0",
  },
} as const satisfies Record<string, Columns>;

export const COLUMNS_005 = {
  notes: {
    lane: "INTEGER",
    seq_from: "INTEGER",
    seq_to: "INTEGER",
  },
} as const satisfies Record<string, Columns>;

/**
 * `006_lane_threads`: where a lane's notes go inside the session's link, for a destination that groups
 * them (`Destination.openThread`; Slack: the thread a channel-only link gets), and under
 * DELIVERY=replace the lane's one context message. `thread_of` / `context_of` are the link each was
 * made for ('' for none: the destination's default), so a relink starts another; `thread` is the
 * link the notes go to, `context_part` the context message's part id.
 */
export const COLUMNS_006 = {
  lanes: {
    thread_of: "TEXT",
    thread: "TEXT",
    context_of: "TEXT",
    context_part: "TEXT",
  },
} as const satisfies Record<string, Columns>;

/**
 * `007_memory`: how far the session's summaries went to its product's memory (the newest window
 * the memory step wrote), so each summary is sent until it lands and then never again.
 */
export const COLUMNS_007 = {
  session: {
    memorised_window: "INTEGER NOT NULL DEFAULT 0",
  },
} as const satisfies Record<string, Columns>;

/**
 * `008_uncounted_batches`: a session with no lane merges its open window's batches into one row
 * (`WindowRows.appendBatch`), and what they add to the session's counters (`actions_accepted`,
 * `batches_accepted`, `open_count`, `last_action_at`) waits in that row (`uncounted_*`, `last_at`)
 * until the window closes, so a batch writes its row and not the session's too.
 */
export const COLUMNS_008 = {
  batches: {
    uncounted_actions: "INTEGER NOT NULL DEFAULT 0",
    uncounted_batches: "INTEGER NOT NULL DEFAULT 0",
    last_at: "INTEGER",
  },
} as const satisfies Record<string, Columns>;

/** The schema every migration above adds up to, for a new session in one step (`CURRENT_SQL`). */
export const CURRENT_TABLES = {
  session: { ...TABLES_000.session, ...COLUMNS_002.session, ...COLUMNS_007.session },
  batches: { ...TABLES_003.batches_003, ...COLUMNS_008.batches },
  windows: TABLES_000.windows,
  notes: { ...TABLES_000.notes, ...COLUMNS_002.notes, ...COLUMNS_005.notes },
  steps: TABLES_000.steps,
  seen_keys: TABLES_003.seen_keys_003,
  lanes: { ...TABLES_005.lanes, ...COLUMNS_006.lanes },
} as const satisfies Record<string, Columns>;
/**
 * None: 004 drops `batches_by_window`. A session holds few batches at a time (its backlog is
 * bounded), so reading them all costs little, while the index cost a write for every batch row
 * inserted and deleted.
 */
export const CURRENT_INDEXES = [] as const;

export type SessionRow = RowOf<typeof TABLES_000.session> & RowOf<typeof COLUMNS_002.session> & RowOf<typeof COLUMNS_007.session>;
export type BatchRow = RowOf<typeof TABLES_000.batches> & RowOf<typeof COLUMNS_008.batches>;
export type WindowRow = RowOf<typeof TABLES_000.windows>;
export type NoteRow = RowOf<typeof TABLES_000.notes> & RowOf<typeof COLUMNS_002.notes> & RowOf<typeof COLUMNS_005.notes>;
export type LaneRow = RowOf<typeof TABLES_005.lanes> & RowOf<typeof COLUMNS_006.lanes>;
export type StepRow = RowOf<typeof TABLES_000.steps>;
export type SeenKeyRow = RowOf<typeof TABLES_001.seen_keys>;
