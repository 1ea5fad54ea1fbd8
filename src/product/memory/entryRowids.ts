/**
 * @module
 * Where a memory entry lives in its FTS5 table: at a rowid hashed from its id, so finding it (or a
 * free slot for it) is a few rowid lookups instead of a scan, and writing it touches one row (no id
 * index to keep up). Pure.
 *
 * - `hash52` is FNV-1a (64-bit, over the id's UTF-8 bytes) xor-folded to 52 bits, as its authors
 *   advise for fewer bits: every rowid is exact in a JS number.
 * - An id's slots are `MAX_PROBES` consecutive rowids from its home; a collision takes the next
 *   free one. Slots stay below `LEGACY_BASE`, where the entries `002_memory_one_table` copied from
 *   `001_memory` live (`LEGACY_BASE + seq`), so the two never meet.
 */

export const LEGACY_BASE = 2 ** 52;

/** Slots an id may take: more than this many other ids on its run is a broken hash, not a busy table. */
export const MAX_PROBES = 32;

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;
const MASK_52 = (1n << 52n) - 1n;
const utf8 = new TextEncoder();

/** FNV-1a 64 of the text's UTF-8 bytes, xor-folded to [0, 2^52). */
export function hash52(text: string): number {
  let h = FNV_OFFSET;
  for (const byte of utf8.encode(text)) h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  return Number((h >> 52n) ^ (h & MASK_52));
}

/** The id's slots, in probe order: `MAX_PROBES` consecutive rowids from its home, all in [1, LEGACY_BASE). */
export function entrySlots(id: string): number[] {
  const home = 1 + (hash52(id) % (LEGACY_BASE - MAX_PROBES));
  return Array.from({ length: MAX_PROBES }, (_, i) => home + i);
}
