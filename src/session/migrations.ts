/**
 * @module
 * The session actor's SQLite schema as an append-only list of migrations (applied by the one
 * mechanism in `storage/migrations.ts`). Never edit a shipped migration: add the next one. The
 * tables are declared in `store/schema.ts`, which the DDL and the row types are both derived from.
 */
import { applyMigrations, type Migration } from "../storage/migrations";
import {
  addColumnsSql,
  COLUMNS_002,
  COLUMNS_005,
  COLUMNS_006,
  COLUMNS_007,
  COLUMNS_008,
  CURRENT_INDEXES,
  CURRENT_TABLES,
  INDEXES_000,
  INDEXES_001,
  schemaSql,
  TABLES_000,
  TABLES_001,
  TABLES_003,
  TABLES_005,
} from "./store/schema";

export type { Migration };

/**
 * Keys a session remembered in `recent_keys` move to `seen_keys` as of its last action, fingerprint
 * unknown (a replay of them stays a duplicate, as before), and age out with the TTL. The column
 * stays (a shipped table never changes) but is no longer written.
 */
const MOVE_RECENT_KEYS = `INSERT OR IGNORE INTO seen_keys (key, fingerprint, seen_at)
  SELECT value, NULL, session.last_action_at FROM session, json_each(session.recent_keys);
UPDATE session SET recent_keys = '[]'`;

/** Copies a table into its rebuilt form (`{name}_003`, declared in `store/schema.ts`), which takes its name. */
const rebuild = (name: string, columns: readonly string[], suffix = "") => `INSERT INTO ${name}_003 (${columns.join(", ")}) SELECT ${columns.join(", ")} FROM ${name};
DROP TABLE ${name};
ALTER TABLE ${name}_003 RENAME TO ${name};${suffix}`;

const REBUILD_003 = [
  schemaSql(TABLES_003, [], ["seen_keys_003"]),
  rebuild("batches", Object.keys(TABLES_003.batches_003), "\nCREATE INDEX batches_by_window ON batches (window_id, seq);\nDELETE FROM sqlite_sequence WHERE name = 'batches';"),
  rebuild("seen_keys", Object.keys(TABLES_003.seen_keys_003)),
].join("\n");

/**
 * A session that wrote to an outbound destination gets its lane (1): how far its notes took the
 * batches and how far its posted summaries cover. Its entry is that of its newest note ('' when the
 * environment's destination wrote it: the first configured lane adopts it, `LaneRows.syncLanes`).
 * The session's own coverage becomes its newest stored summary.
 */
const LANES_005 = `${schemaSql(TABLES_005, [])}
${addColumnsSql(COLUMNS_005)}
INSERT INTO lanes (id, destination, delivered_seq, covered_window, added_at, raw_notes_posted, summary_notes_posted, redactions)
  SELECT 1, COALESCE((SELECT destination FROM notes WHERE destination IS NOT NULL ORDER BY id DESC LIMIT 1), ''),
    COALESCE((SELECT MAX(seq) FROM batches WHERE note_id IS NOT NULL), 0), covered_window, created_at,
    raw_notes_posted, summary_notes_posted, redactions
  FROM session WHERE raw_notes_posted > 0 OR summary_notes_posted > 0 OR EXISTS (SELECT 1 FROM notes);
UPDATE notes SET lane = 1, seq_from = (SELECT MIN(seq) FROM batches WHERE note_id = notes.id), seq_to = (SELECT MAX(seq) FROM batches WHERE note_id = notes.id);
UPDATE windows SET posted_at = summarised_at WHERE summary IS NOT NULL AND posted_at IS NULL;
UPDATE session SET covered_window = MAX(covered_window, COALESCE((SELECT MAX(id) FROM windows WHERE summary IS NOT NULL), 0));`;

/**
 * `009_no_closed_window_rows`: releases before 008 wrote a row for each window at its close; today a
 * closed window's batches and the session's position say it waits, and its row comes with its
 * summary, posted as it is stored. Dropping the old rows once spares each summary two statements
 * that looked for them.
 */
const DROP_CLOSED_WINDOW_ROWS_009 = `DELETE FROM windows WHERE summary IS NULL;
UPDATE windows SET posted_at = summarised_at WHERE posted_at IS NULL;`;

export const MIGRATIONS: readonly Migration[] = [
  { id: "000_init", sql: schemaSql(TABLES_000, INDEXES_000) },
  { id: "001_seen_keys", sql: `${schemaSql(TABLES_001, INDEXES_001)}\n${MOVE_RECENT_KEYS}` },
  { id: "002_products", sql: addColumnsSql(COLUMNS_002) },
  { id: "003_fewer_writes", sql: REBUILD_003 },
  { id: "004_no_batch_index", sql: "DROP INDEX batches_by_window" },
  { id: "005_lanes", sql: LANES_005 },
  { id: "006_lane_threads", sql: addColumnsSql(COLUMNS_006) },
  { id: "007_memory", sql: addColumnsSql(COLUMNS_007) },
  { id: "008_uncounted_batches", sql: addColumnsSql(COLUMNS_008) },
  { id: "009_no_closed_window_rows", sql: DROP_CLOSED_WINDOW_ROWS_009 },
];

/** What a new session creates: the schema `MIGRATIONS` add up to (the migrations test checks they match). */
export const CURRENT_SQL = schemaSql(CURRENT_TABLES, CURRENT_INDEXES, ["seen_keys"]);

/**
 * Applies the session's migrations not yet recorded, in one transaction (a new session: today's
 * schema at once). Throws if the history diverges.
 */
export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[] = MIGRATIONS): void {
  applyMigrations(storage, migrations, migrations === MIGRATIONS ? CURRENT_SQL : undefined);
}
