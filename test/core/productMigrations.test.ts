/**
 * The product actor's migrations on `node:sqlite`: a new product's schema at once matches the
 * history, and `002_memory_one_table` moves every entry of `001_memory` into `memory_entries`
 * (text, metadata, vector) at `LEGACY_BASE + seq`, leaving no table of 001 behind.
 */
import { describe, expect, it } from "vitest";
import { LEGACY_BASE } from "../../src/product/memory/entryRowids";
import { PRODUCT_MIGRATIONS, PRODUCT_SQL } from "../../src/product/schema";
import { applyMigrations } from "../../src/storage/migrations";
import { createNodeStorage } from "./support/nodeStorage";

/** Each stored object's SQL on one line, FTS5's shadow tables included. */
const schemaOf = (storage: DurableObjectStorage): string[] =>
  storage.sql
    .exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name <> '_migrations' ORDER BY name")
    .toArray()
    .map((r) => r.sql.replace(/\s+/g, " "));

const migratedIds = (storage: DurableObjectStorage) => storage.sql.exec<{ id: string }>("SELECT id FROM _migrations ORDER BY id").toArray().map((r) => r.id);

describe("product migrations", () => {
  it("a new product gets the schema the history adds up to, every migration recorded", () => {
    const fresh = createNodeStorage();
    applyMigrations(fresh, PRODUCT_MIGRATIONS, PRODUCT_SQL);
    const history = createNodeStorage();
    applyMigrations(history, PRODUCT_MIGRATIONS);
    expect(schemaOf(fresh)).toEqual(schemaOf(history));
    expect(migratedIds(fresh)).toEqual(PRODUCT_MIGRATIONS.map((m) => m.id));
    expect(schemaOf(fresh).filter((sql) => sql.includes("memory"))).toContain(
      "CREATE VIRTUAL TABLE memory_entries USING fts5(text, id UNINDEXED, session_id UNINDEXED, epoch UNINDEXED, user_id UNINDEXED, window_id UNINDEXED, time UNINDEXED, extractive UNINDEXED, vector UNINDEXED, tokenize = 'porter unicode61')",
    );
  });

  it("002_memory_one_table copies every entry of 001 with its text, metadata and vector, then drops 001's tables", () => {
    const storage = createNodeStorage();
    applyMigrations(storage, PRODUCT_MIGRATIONS.slice(0, 2));
    const { sql } = storage;
    const vector = new Float32Array([0.5, -1]).buffer;
    sql.exec("INSERT INTO memory (seq, id, session_id, epoch, user_id, window_id, time, extractive, vector) VALUES (3, 's1:e1:1', 's1', 'e1', 'u-1', 1, 1000, 1, ?)", vector);
    sql.exec("INSERT INTO memory (seq, id, session_id, epoch, user_id, window_id, time, extractive, vector) VALUES (7, 's2:e1:2', 's2', 'e1', NULL, 2, 2000, 0, NULL)");
    sql.exec("INSERT INTO memory_fts (rowid, text) VALUES (3, 'Exported invoices.'), (7, 'Invited a teammate.')");

    applyMigrations(storage, PRODUCT_MIGRATIONS);
    const rows = sql.exec("SELECT rowid, *, typeof(user_id) AS user_type, typeof(vector) AS vector_type FROM memory_entries ORDER BY rowid").toArray();
    expect(rows).toEqual([
      { rowid: LEGACY_BASE + 3, text: "Exported invoices.", id: "s1:e1:1", session_id: "s1", epoch: "e1", user_id: "u-1", window_id: 1, time: 1000, extractive: 1, vector, user_type: "text", vector_type: "blob" },
      { rowid: LEGACY_BASE + 7, text: "Invited a teammate.", id: "s2:e1:2", session_id: "s2", epoch: "e1", user_id: null, window_id: 2, time: 2000, extractive: 0, vector: null, user_type: "null", vector_type: "null" },
    ]);
    expect(sql.exec("SELECT rowid FROM memory_entries WHERE memory_entries MATCH 'export'").toArray()).toEqual([{ rowid: LEGACY_BASE + 3 }]);
    const fresh = createNodeStorage();
    applyMigrations(fresh, PRODUCT_MIGRATIONS, PRODUCT_SQL);
    expect(schemaOf(storage)).toEqual(schemaOf(fresh));
    expect(schemaOf(storage).filter((s) => /\b(memory|memory_fts|memory_by_\w+)\b/.test(s))).toEqual([]);
  });
});
