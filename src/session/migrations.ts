/**
 * @module
 * The actor's SQLite schema as an append-only list of migrations, applied in one transaction and
 * recorded in `_migrations`. Never edit a shipped migration: add the next one. The tables are
 * declared in `store/schema.ts`, which the DDL and the row types are both derived from.
 */
import { metered } from "../meter";
import { INDEXES_000, INDEXES_001, schemaSql, TABLES_000, TABLES_001 } from "./store/schema";

export interface Migration {
  id: string;
  sql: string;
}

/**
 * Keys a session remembered in `recent_keys` move to `seen_keys` as of its last action, fingerprint
 * unknown (a replay of them stays a duplicate, as before), and age out with the TTL. The column
 * stays (a shipped table never changes) but is no longer written.
 */
const MOVE_RECENT_KEYS = `INSERT OR IGNORE INTO seen_keys (key, fingerprint, seen_at)
  SELECT value, NULL, session.last_action_at FROM session, json_each(session.recent_keys);
UPDATE session SET recent_keys = '[]'`;

export const MIGRATIONS: readonly Migration[] = [
  { id: "000_init", sql: schemaSql(TABLES_000, INDEXES_000) },
  { id: "001_seen_keys", sql: `${schemaSql(TABLES_001, INDEXES_001)}\n${MOVE_RECENT_KEYS}` },
];

const ID_PATTERN = /^\d{3}_[a-z0-9_]+$/;

/** Applies the migrations not yet recorded, in one transaction. Throws if the history diverges. */
export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[] = MIGRATIONS): void {
  for (const m of migrations) if (!ID_PATTERN.test(m.id)) throw new Error(`bad migration id ${m.id}`);
  storage.transactionSync(() => {
    const sql = metered(storage.sql);
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
