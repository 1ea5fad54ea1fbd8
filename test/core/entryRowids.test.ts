/**
 * A memory entry's rowid: FNV-1a 64 folded to 52 bits (checked against the published FNV-1a test
 * vectors), and an id's slots, always below the rowids of entries migrated from `001_memory`.
 */
import { describe, expect, it } from "vitest";
import { entrySlots, hash52, LEGACY_BASE, MAX_PROBES } from "../../src/product/memory/entryRowids";
import { memoryId } from "../../src/product/memory/types";

/** The published 64-bit FNV-1a of a text, folded as `hash52` folds it. */
const folded = (fnv1a64: bigint) => Number((fnv1a64 >> 52n) ^ (fnv1a64 & ((1n << 52n) - 1n)));

describe("hash52", () => {
  it("is FNV-1a 64 xor-folded to 52 bits", () => {
    expect(hash52("")).toBe(folded(0xcbf29ce484222325n));
    expect(hash52("a")).toBe(folded(0xaf63dc4c8601ec8cn));
    expect(hash52("foobar")).toBe(folded(0x85944171f73967e8n));
  });

  it("hashes UTF-8 bytes, stays in [0, 2^52) and spreads ids that differ by one character", () => {
    expect(hash52("é")).not.toBe(hash52("e"));
    const ids = Array.from({ length: 10_000 }, (_, w) => memoryId("sess-1", "e1", w));
    const hashes = ids.map(hash52);
    expect(new Set(hashes).size).toBe(ids.length);
    for (const h of hashes) expect(Number.isSafeInteger(h) && h >= 0 && h < LEGACY_BASE).toBe(true);
  });
});

describe("entrySlots", () => {
  it("gives MAX_PROBES consecutive rowids from the id's home, all in [1, LEGACY_BASE), the same each time", () => {
    for (const id of ["", "a", memoryId("s", "e", 1), memoryId("another-session", "2026-01-01", 99)]) {
      const slots = entrySlots(id);
      expect(entrySlots(id)).toEqual(slots);
      expect(slots).toEqual(Array.from({ length: MAX_PROBES }, (_, i) => slots[0]! + i));
      expect(slots[0]).toBeGreaterThanOrEqual(1);
      expect(slots.at(-1)).toBeLessThan(LEGACY_BASE);
    }
  });
});
