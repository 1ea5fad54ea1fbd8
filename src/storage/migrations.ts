/**
 * @module
 * The one migration mechanism of every actor's SQLite storage: an append-only list of
 * migrations, applied in one transaction and recorded in `_migrations`. Never edit a shipped
 * migration: add the next one. Each actor class keeps its own list (`session/migrations.ts`,
 * `product/migrations.ts`).
 */
import { metered } from "../meter";

export interface Migration {
  id: string;
  sql: string;
}

const ID_PATTERN = /^\d{3}_[a-z0-9_]+$/;

/**
 * Applies the migrations not yet recorded, in one transaction. Throws if the history diverges.
 * `fresh` is the DDL of the schema the whole list produces: an empty storage gets it in one step
 * and every migration recorded, so a new object pays for today's schema, not its history (each
 * actor's tests check that it matches the history).
 */
export function applyMigrations(storage: DurableObjectStorage, migrations: readonly Migration[], fresh?: string): void {
  for (const m of migrations) if (!ID_PATTERN.test(m.id)) throw new Error(`bad migration id ${m.id}`);
  // The common case, every object's start: up to date, known from one read and no transaction.
  if (recordedMigrations(storage, migrations)?.length === migrations.length) return;
  storage.transactionSync(() => {
    const sql = metered(storage.sql);
    // WITHOUT ROWID: one row written per migration recorded, not two (objects made before keep theirs).
    sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) WITHOUT ROWID");
    const applied = sql.exec<{ id: string }>("SELECT id FROM _migrations ORDER BY id").toArray().map((r) => r.id);
    applied.forEach((id, i) => {
      if (migrations[i]?.id !== id) throw new Error(`migration history diverges at ${id}`);
    });
    if (fresh !== undefined && applied.length === 0 && migrations.length > 0) {
      sql.exec(fresh);
      const now = Date.now();
      sql.exec(`INSERT INTO _migrations (id, applied_at) VALUES ${migrations.map(() => "(?, ?)").join(", ")}`, ...migrations.flatMap((m) => [m.id, now]));
      return;
    }
    for (const m of migrations.slice(applied.length)) {
      sql.exec(m.sql);
      sql.exec("INSERT INTO _migrations (id, applied_at) VALUES (?, ?)", m.id, Date.now());
    }
  });
}

/**
 * The migrations this storage has recorded, in order, or null when it has never been migrated (a
 * probe that creates nothing: one statement). Throws if the history diverges from `migrations`.
 */
export function recordedMigrations(storage: DurableObjectStorage, migrations: readonly Migration[]): string[] | null {
  let applied: string[];
  try {
    applied = metered(storage.sql).exec<{ id: string }>("SELECT id FROM _migrations ORDER BY id").toArray().map((r) => r.id);
  } catch (err) {
    if (/no such table/i.test(String(err))) return null;
    throw err;
  }
  applied.forEach((id, i) => {
    if (migrations[i]?.id !== id) throw new Error(`migration history diverges at ${id}`);
  });
  return applied;
}

