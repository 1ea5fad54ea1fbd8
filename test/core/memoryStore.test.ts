/**
 * `MemoryStore` on `node:sqlite` (the real checks of rows and types run in workerd: test/productsMemory,
 * test/meterMemory): each entry is one row at its hashed rowid, a collision takes the next slot and
 * stays found after the slot before it is freed, entries migrated from `001_memory` are found by id,
 * and a search only ever matches the text.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { entrySlots, LEGACY_BASE, MAX_PROBES } from "../../src/product/memory/entryRowids";
import { MemoryStore } from "../../src/product/memory/memoryStore";
import { ftsMatch } from "../../src/product/memory/ranking";
import { memoryId, type MemoryEntry } from "../../src/product/memory/types";
import { PRODUCT_MIGRATIONS, PRODUCT_SQL } from "../../src/product/schema";
import { applyMigrations } from "../../src/storage/migrations";
import { createNodeStorage } from "./support/nodeStorage";

let storage: DurableObjectStorage;
let store: MemoryStore;

beforeEach(() => {
  storage = createNodeStorage();
  applyMigrations(storage, PRODUCT_MIGRATIONS, PRODUCT_SQL);
  store = new MemoryStore(storage);
});

const entry = (session: string, text: string, extra: Partial<MemoryEntry> = {}): MemoryEntry => ({
  id: memoryId(session, "e1", extra.window ?? 1),
  session_id: session,
  epoch: "e1",
  user_id: "u-1",
  window: 1,
  time: 1_000,
  extractive: false,
  text,
  ...extra,
});

const rowids = () => storage.sql.exec<{ rowid: number; id: string }>("SELECT rowid, id FROM memory_entries ORDER BY rowid").toArray();
/** Puts a row of another id straight at a rowid (a collision the hash would almost never make). */
const occupy = (rowid: number, id: string) =>
  storage.sql.exec("INSERT INTO memory_entries (rowid, text, id, session_id, epoch, user_id, window_id, time, extractive, vector) VALUES (?, 'other', ?, 'other', 'e1', NULL, 1, 1, 0, NULL)", rowid, id);
const texts = (q: string, userId?: string) => store.searchText(ftsMatch(q)!, userId, 10).map((h) => h.summary);

describe("MemoryStore", () => {
  it("stores an entry at its home rowid, once, and updates it in place", () => {
    const e = entry("s1", "Exported invoices to CSV.");
    store.upsert(e, null);
    store.upsert(e, null);
    expect(rowids()).toEqual([{ rowid: entrySlots(e.id)[0], id: e.id }]);
    store.upsert({ ...e, text: "Exported invoices to PDF.", extractive: true }, Float32Array.from([1, 0]));
    expect(rowids()).toEqual([{ rowid: entrySlots(e.id)[0], id: e.id }]);
    expect(store.byIds([e.id], () => 1)).toEqual([{ summary: "Exported invoices to PDF.", session_id: "s1", user_id: "u-1", window: 1, time: 1_000, extractive: true, score: 1 }]);
    expect(store.vectors(undefined).map((v) => [...v.vector])).toEqual([[1, 0]]);
  });

  it("a taken home sends the entry to the next slot, where it stays found after the home is freed", () => {
    const e = entry("s1", "Exported invoices.");
    const [first] = entrySlots(e.id) as [number];
    occupy(first, "someone-else");
    store.upsert(e, null);
    expect(rowids()).toEqual([
      { rowid: first, id: "someone-else" },
      { rowid: first + 1, id: e.id },
    ]);
    store.removeSession("other");
    store.upsert({ ...e, text: "Exported invoices again." }, null);
    expect(rowids()).toEqual([{ rowid: first + 1, id: e.id }]);
    expect(store.byIds([e.id], () => 0).map((h) => h.summary)).toEqual(["Exported invoices again."]);
  });

  it("refuses to write when every slot of the id is taken, and writes nothing", () => {
    const e = entry("s1", "Exported invoices.");
    const [first] = entrySlots(e.id) as [number];
    for (let i = 0; i < MAX_PROBES; i++) occupy(first + i, `other-${i}`);
    expect(() => store.upsert(e, null)).toThrow(/every slot/);
    expect(store.count()).toBe(MAX_PROBES);
    expect(store.byIds([e.id], () => 0)).toEqual([]);
  });

  it("finds an entry migrated from 001 by its id: a re-send updates it, never adds a second", () => {
    const e = entry("s1", "Exported invoices.");
    storage.sql.exec(
      "INSERT INTO memory_entries (rowid, text, id, session_id, epoch, user_id, window_id, time, extractive, vector) VALUES (?, 'Old text.', ?, 's1', 'e1', 'u-1', 1, 1000, 0, NULL)",
      LEGACY_BASE + 5,
      e.id,
    );
    expect(store.byIds([e.id, "absent:e1:1"], () => 0).map((h) => h.summary)).toEqual(["Old text."]);
    store.upsert(e, null);
    expect(rowids()).toEqual([{ rowid: LEGACY_BASE + 5, id: e.id }]);
    expect(store.idsOf("s1")).toEqual([e.id]);
  });

  it("searches the text only: words naming or matching metadata find nothing there", () => {
    store.upsert(entry("session_id", "Opened the billing page.", { user_id: "id" }), null);
    store.upsert(entry("s2", "The text column mentions session_id and epoch."), null);
    expect(texts("id:x session_id:y")).toEqual(["The text column mentions session_id and epoch."]);
    expect(texts("e1")).toEqual([]);
    expect(texts("u")).toEqual([]);
    expect(texts("billing")).toEqual(["Opened the billing page."]);
    expect(texts("billing", "id")).toEqual(["Opened the billing page."]);
    expect(texts("billing", "u-1")).toEqual([]);
  });

  it("lists vectors newest first, and removes by session and epoch", () => {
    store.upsert(entry("s1", "a", { time: 1 }), Float32Array.from([1]));
    store.upsert(entry("s2", "b", { time: 3 }), Float32Array.from([2]));
    store.upsert(entry("s3", "c", { time: 2 }), null);
    expect(store.vectors(undefined).map((v) => v.id)).toEqual([memoryId("s2", "e1", 1), memoryId("s1", "e1", 1)]);
    store.removeSession("s1", "e2");
    expect(store.count("s1")).toBe(1);
    store.removeSession("s1", "e1");
    expect(store.count()).toBe(2);
  });
});
