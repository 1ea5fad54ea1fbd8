/**
 * @module
 * The actor's SQLite schema as an append-only list of migrations, applied in one transaction and
 * recorded in `_migrations`. Never edit a shipped migration: add the next one.
 */

export interface Migration {
  id: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: "000_init",
    sql: `
      CREATE TABLE session (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        product_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        epoch TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_action_at INTEGER NOT NULL,
        link TEXT,
        linked_at INTEGER,
        user_id TEXT,
        email TEXT,
        open_window INTEGER NOT NULL DEFAULT 1,
        open_count INTEGER NOT NULL DEFAULT 0,
        covered_window INTEGER NOT NULL DEFAULT 0,
        flush_at INTEGER,
        recent_keys TEXT NOT NULL DEFAULT '[]',
        actions_accepted INTEGER NOT NULL DEFAULT 0,
        batches_accepted INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        raw_notes_posted INTEGER NOT NULL DEFAULT 0,
        summaries INTEGER NOT NULL DEFAULT 0,
        summary_notes_posted INTEGER NOT NULL DEFAULT 0,
        redactions INTEGER NOT NULL DEFAULT 0,
        llm_calls INTEGER NOT NULL DEFAULT 0,
        llm_failures INTEGER NOT NULL DEFAULT 0,
        summaries_rejected INTEGER NOT NULL DEFAULT 0,
        step_failures INTEGER NOT NULL DEFAULT 0,
        actions_held_back INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE batches (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        window_id INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        action_count INTEGER NOT NULL,
        actions TEXT NOT NULL,
        note_id INTEGER
      );
      CREATE INDEX batches_by_note ON batches (note_id, seq);
      CREATE INDEX batches_by_window ON batches (window_id, seq);
      CREATE TABLE windows (
        id INTEGER PRIMARY KEY,
        action_count INTEGER NOT NULL,
        closed_at INTEGER NOT NULL,
        summary TEXT,
        summarised_at INTEGER,
        extractive INTEGER NOT NULL DEFAULT 0,
        posted_at INTEGER
      );
      CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('raw', 'summary')),
        window_id INTEGER NOT NULL,
        body TEXT NOT NULL,
        link TEXT,
        created_at INTEGER NOT NULL,
        part_id TEXT,
        posted_at INTEGER
      );
      CREATE TABLE steps (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        parked_at INTEGER,
        unknown_outcome INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
      );
    `,
  },
];

const ID_PATTERN = /^\d{3}_[a-z0-9_]+$/;

/** Applies the migrations not yet recorded, in one transaction. Throws if the history diverges. */
export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[] = MIGRATIONS): void {
  for (const m of migrations) if (!ID_PATTERN.test(m.id)) throw new Error(`bad migration id ${m.id}`);
  storage.transactionSync(() => {
    const sql = storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const applied = sql.exec<{ id: string }>("SELECT id FROM _migrations ORDER BY id").toArray().map((r) => r.id);
    applied.forEach((id, i) => {
      if (migrations[i]?.id !== id) throw new Error(`migration history diverges at ${id}`);
    });
    for (const m of migrations.slice(applied.length)) {
      sql.exec(m.sql);
      sql.exec("INSERT INTO _migrations (id, applied_at) VALUES (?, ?)", m.id, Date.now());
    }
  });
}
