/**
 * @module
 * The product actor's tables (one class for every product, and for the key registry named `*`:
 * each instance uses the tables its role needs) and their migrations, on the one mechanism of
 * `storage/migrations.ts`.
 */
import type { Migration } from "../storage/migrations";
import { schemaSql, type Columns, type RowOf } from "../storage/tables";
import { LEGACY_BASE } from "./memory/entryRowids";

export const PRODUCT_TABLES_000 = {
  settings: {
    id: "INTEGER PRIMARY KEY CHECK (id = 1)",
    /** `ProductSettings` as JSON: secret names, never values. */
    json: "TEXT NOT NULL",
    updated_at: "INTEGER NOT NULL",
  },
  api_keys: {
    id: "TEXT PRIMARY KEY",
    name: "TEXT NOT NULL",
    /** `"*"` or a JSON array of product ids. */
    products: "TEXT NOT NULL",
    scopes: "TEXT NOT NULL",
    /** Hex SHA-256 of the key's secret part. */
    hash: "TEXT NOT NULL",
    created_at: "INTEGER NOT NULL",
    last_used_at: "INTEGER",
    revoked_at: "INTEGER",
  },
  sessions: {
    session_id: "TEXT PRIMARY KEY",
    epoch: "TEXT NOT NULL",
    user_id: "TEXT",
    link: "TEXT",
    created_at: "INTEGER NOT NULL",
    last_activity_at: "INTEGER NOT NULL",
    expires_at: "INTEGER NOT NULL",
    parked: "INTEGER NOT NULL",
    /** `IndexEntry.counts` and `.step` as JSON: shown, never filtered on. */
    counts: "TEXT NOT NULL",
    step: "TEXT",
    updated_at: "INTEGER NOT NULL",
  },
} as const satisfies Record<string, Columns>;

// The listing's order (newest activity first), one user's sessions in that order, and expiry.
export const PRODUCT_INDEXES_000 = [
  "CREATE INDEX sessions_by_activity ON sessions (last_activity_at DESC, session_id DESC)",
  "CREATE INDEX sessions_by_user ON sessions (user_id, last_activity_at DESC, session_id DESC)",
  "CREATE INDEX sessions_by_expiry ON sessions (expires_at)",
] as const;

/**
 * `001_memory`: the product's memory (`product/memory/`), one row per summary of its sessions,
 * found by its stable `id`; its text in an FTS5 table (porter stemming, BM25) whose rowid is the
 * row's `seq`; its embedding, when an embedder is set, as little-endian float32 (`vector`).
 */
export const PRODUCT_TABLES_001 = {
  memory: {
    seq: "INTEGER PRIMARY KEY",
    id: "TEXT NOT NULL UNIQUE",
    session_id: "TEXT NOT NULL",
    epoch: "TEXT NOT NULL",
    user_id: "TEXT",
    window_id: "INTEGER NOT NULL",
    time: "INTEGER NOT NULL",
    extractive: "INTEGER NOT NULL",
    vector: "BLOB",
  },
} as const satisfies Record<string, Columns>;

export const PRODUCT_INDEXES_001 = [
  "CREATE INDEX memory_by_session ON memory (session_id)",
  "CREATE INDEX memory_by_user ON memory (user_id, seq)",
  "CREATE VIRTUAL TABLE memory_fts USING fts5(text, tokenize = 'porter unicode61')",
] as const;

/**
 * `002_memory_one_table`: each memory entry is one row of one FTS5 table (`memory_entries`), its
 * metadata in UNINDEXED columns, so writing an entry writes one row, not five (the row, its id
 * index, two more indexes and the text index's row). Its rowid is hashed from its id
 * (`memory/entryRowids.ts`); the entries of `001_memory` keep theirs at `LEGACY_BASE + seq`.
 *
 * The specs type the rows (`RowOf`); FTS5 keeps each value as given and checks none. `text` is the
 * one indexed column (porter stemming, BM25).
 */
export const MEMORY_ENTRY_COLUMNS = {
  text: "TEXT NOT NULL",
  /** `${session_id}:${epoch}:${window}` (`memoryId`). */
  id: "TEXT NOT NULL",
  session_id: "TEXT NOT NULL",
  epoch: "TEXT NOT NULL",
  user_id: "TEXT",
  window_id: "INTEGER NOT NULL",
  time: "INTEGER NOT NULL",
  extractive: "INTEGER NOT NULL",
  /** Little-endian float32, when an embedder is set and no Vectorize index holds the vectors. */
  vector: "BLOB",
} as const satisfies Columns;

export const MEMORY_TABLE = "memory_entries";

/** Every column of `memory_entries` after `text` (the one FTS5 indexes). */
export const MEMORY_META = Object.keys(MEMORY_ENTRY_COLUMNS).filter((c) => c !== "text") as readonly Exclude<keyof typeof MEMORY_ENTRY_COLUMNS, "text">[];

const MEMORY_DDL = `CREATE VIRTUAL TABLE ${MEMORY_TABLE} USING fts5(text, ${MEMORY_META.map((c) => `${c} UNINDEXED`).join(", ")}, tokenize = 'porter unicode61')`;

const MEMORY_002 = `${MEMORY_DDL};
INSERT INTO ${MEMORY_TABLE} (rowid, text, ${MEMORY_META.join(", ")})
  SELECT ${LEGACY_BASE} + m.seq, f.text, ${MEMORY_META.map((c) => `m.${c}`).join(", ")} FROM memory m JOIN memory_fts f ON f.rowid = m.seq;
DROP TABLE memory_fts;
DROP TABLE memory;`;

export const PRODUCT_MIGRATIONS: readonly Migration[] = [
  { id: "000_init", sql: schemaSql(PRODUCT_TABLES_000, PRODUCT_INDEXES_000) },
  { id: "001_memory", sql: schemaSql(PRODUCT_TABLES_001, PRODUCT_INDEXES_001) },
  { id: "002_memory_one_table", sql: MEMORY_002 },
];

/** What a new product creates: the schema `PRODUCT_MIGRATIONS` add up to (the product migrations test checks they match). */
export const PRODUCT_SQL = schemaSql(PRODUCT_TABLES_000, [...PRODUCT_INDEXES_000, MEMORY_DDL]);

export type SettingsRow = RowOf<typeof PRODUCT_TABLES_000.settings>;
export type ApiKeyRow = RowOf<typeof PRODUCT_TABLES_000.api_keys>;
export type IndexRow = RowOf<typeof PRODUCT_TABLES_000.sessions>;
/** A row of `memory_entries` with its rowid; `vector` is a BLOB, which `RowOf` does not type. */
export type MemoryRow = Omit<RowOf<typeof MEMORY_ENTRY_COLUMNS>, "vector"> & { rowid: number; vector: ArrayBuffer | null };
