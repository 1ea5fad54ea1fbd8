/**
 * @module
 * The product actor's tables (one class for every product, and for the key registry named `*`:
 * each instance uses the tables its role needs) and their migrations, on the one mechanism of
 * `storage/migrations.ts`.
 */
import type { Migration } from "../storage/migrations";
import { schemaSql, type Columns, type RowOf } from "../storage/tables";

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

export const PRODUCT_MIGRATIONS: readonly Migration[] = [
  { id: "000_init", sql: schemaSql(PRODUCT_TABLES_000, PRODUCT_INDEXES_000) },
  { id: "001_memory", sql: schemaSql(PRODUCT_TABLES_001, PRODUCT_INDEXES_001) },
];

export type SettingsRow = RowOf<typeof PRODUCT_TABLES_000.settings>;
export type ApiKeyRow = RowOf<typeof PRODUCT_TABLES_000.api_keys>;
export type IndexRow = RowOf<typeof PRODUCT_TABLES_000.sessions>;
/** `vector` is a BLOB, which `RowOf` does not type. */
export type MemoryRow = Omit<RowOf<typeof PRODUCT_TABLES_001.memory>, "vector"> & { vector: ArrayBuffer | null };
