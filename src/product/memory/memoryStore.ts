/**
 * @module
 * Every SQL statement of a product's memory: upsert by id (exactly once, however often a step
 * repeats), removal by session, full-text search (BM25) and the vectors an exact cosine scan
 * reads. Synchronous (SQLite-backed storage).
 *
 * An entry is one row of `memory_entries` (FTS5, metadata UNINDEXED), at a rowid hashed from its id
 * (`entryRowids.ts`): a new entry writes one row, a change one, an unchanged re-send none. Filters
 * on metadata scan the table (rows read are a thousandth of the price of rows written).
 */
import { metered } from "../../meter";
import { MEMORY_ENTRY_COLUMNS, MEMORY_META, MEMORY_TABLE, type MemoryRow } from "../schema";
import { entrySlots, LEGACY_BASE, MAX_PROBES } from "./entryRowids";
import { MEMORY_LIMITS, type MemoryEntry, type MemoryHit } from "./types";

type Row = Record<string, SqlStorageValue>;

const T = MEMORY_TABLE;
const COLUMNS = `rowid, text, ${MEMORY_META.join(", ")}`;
/**
 * A value's placeholder: workerd binds every JS number as a REAL, and an UNINDEXED column has no
 * affinity to make it an integer again, so the integer columns cast it.
 */
const bind = (c: keyof typeof MEMORY_ENTRY_COLUMNS) => (MEMORY_ENTRY_COLUMNS[c].startsWith("INTEGER") ? "CAST(? AS INTEGER)" : "?");
const INSERT_SQL = `INSERT INTO ${T} (${COLUMNS}) VALUES (?, ?, ${MEMORY_META.map(bind).join(", ")})`;
const UPDATE_SQL = `UPDATE ${T} SET text = ?, ${MEMORY_META.map((c) => `${c} = ${bind(c)}`).join(", ")} WHERE rowid = ?`;
const SLOTS_SQL = `SELECT ${COLUMNS} FROM ${T} WHERE rowid IN (${Array.from({ length: MAX_PROBES }, () => "?").join(", ")})`;

const hit = (r: MemoryRow, score: number): MemoryHit => ({
  summary: r.text,
  session_id: r.session_id,
  user_id: r.user_id,
  window: r.window_id,
  time: r.time,
  extractive: r.extractive === 1,
  score,
});

/** The row an entry is stored as (without its rowid), in `MEMORY_META` order after `text`. */
function rowOf(entry: MemoryEntry, vector: Float32Array | null): Omit<MemoryRow, "rowid"> {
  return {
    text: entry.text,
    id: entry.id,
    session_id: entry.session_id,
    epoch: entry.epoch,
    user_id: entry.user_id,
    window_id: entry.window,
    time: entry.time,
    extractive: entry.extractive ? 1 : 0,
    vector: vector ? new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength).slice().buffer : null,
  };
}

const sameBytes = (a: ArrayBuffer | null, b: ArrayBuffer | null): boolean => {
  if (a === null || b === null) return a === b;
  const [x, y] = [new Uint8Array(a), new Uint8Array(b)];
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
};

const sameRow = (a: Omit<MemoryRow, "rowid">, b: Omit<MemoryRow, "rowid">): boolean =>
  a.text === b.text && MEMORY_META.every((c) => (c === "vector" ? sameBytes(a.vector, b.vector) : a[c] === b[c]));

const sessionFilter = (sessionId: string, epoch?: string): [string, unknown[]] =>
  epoch === undefined ? ["session_id = ?", [sessionId]] : ["session_id = ? AND epoch = ?", [sessionId, epoch]];

const userFilter = (userId: string | undefined): [string, unknown[]] => (userId === undefined ? ["", []] : [" AND user_id = ?", [userId]]);

/** An id's row, or, when it has none, the rowids of its slots that other ids hold. */
type Found = MemoryRow | { taken: ReadonlySet<number> };

export class MemoryStore {
  private legacyGone = false;

  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql(): SqlStorage {
    return metered(this.storage.sql);
  }

  private rows<T>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec<Row>(query, ...bindings).toArray() as T[];
  }

  /**
   * Each id's row: its slots read by rowid, all at once (a slot freed by a removal never hides the
   * entry after it; FTS5 looks up a list of rowids but scans for a rowid range), then, for the ids
   * not there, the entries copied from `001_memory`, if any are left.
   */
  private find(ids: readonly string[]): Map<string, Found> {
    const found = new Map<string, Found>();
    for (const id of new Set(ids)) {
      const slots = this.rows<MemoryRow>(SLOTS_SQL, ...entrySlots(id));
      found.set(id, slots.find((r) => r.id === id) ?? { taken: new Set(slots.map((r) => r.rowid)) });
    }
    const missing = [...found].filter(([, f]) => "taken" in f).map(([id]) => id);
    if (missing.length > 0 && this.hasLegacy()) {
      const legacy = this.rows<MemoryRow>(`SELECT ${COLUMNS} FROM ${T} WHERE rowid >= ? AND id IN (${missing.map(() => "?").join(", ")})`, LEGACY_BASE, ...missing);
      for (const row of legacy) found.set(row.id, row);
    }
    return found;
  }

  /**
   * Whether entries copied from `001_memory` are left (the top rowid: FTS5 reads it from the end),
   * since finding one by id scans. None comes back once they are gone (new entries live below
   * `LEGACY_BASE`), so a store asks until then.
   */
  private hasLegacy(): boolean {
    if (this.legacyGone) return false;
    const [top] = this.rows<{ rowid: number }>(`SELECT rowid FROM ${T} ORDER BY rowid DESC LIMIT 1`);
    this.legacyGone = (top?.rowid ?? 0) < LEGACY_BASE;
    return !this.legacyGone;
  }

  /** The first of the id's slots no other id holds; throws when all are (a broken hash, never a full table). */
  private static freeSlot(id: string, taken: ReadonlySet<number>): number {
    const free = entrySlots(id).find((rowid) => !taken.has(rowid));
    if (free === undefined) throw new Error(`memory: every slot of ${id} is taken (${MAX_PROBES} probes)`);
    return free;
  }

  /** Writes the entry under its id: a second write of the same id replaces the first (or, unchanged, writes nothing), never adds a row. */
  upsert(entry: MemoryEntry, vector: Float32Array | null): void {
    const next = rowOf(entry, vector);
    const values = MEMORY_META.map((c) => next[c]);
    this.storage.transactionSync(() => {
      const found = this.find([entry.id]).get(entry.id)!;
      if ("taken" in found) {
        const rowid = MemoryStore.freeSlot(entry.id, found.taken);
        this.sql.exec(INSERT_SQL, rowid, next.text, ...values);
      } else if (!sameRow(found, next)) {
        this.sql.exec(UPDATE_SQL, next.text, ...values, found.rowid);
      }
    });
  }

  /** Removes a session's entries (of one epoch when given), text and vectors. */
  removeSession(sessionId: string, epoch?: string): void {
    const [where, bindings] = sessionFilter(sessionId, epoch);
    this.sql.exec(`DELETE FROM ${T} WHERE ${where}`, ...bindings);
  }

  /** The ids of a session's entries (of one epoch when given). */
  idsOf(sessionId: string, epoch?: string): string[] {
    const [where, bindings] = sessionFilter(sessionId, epoch);
    return this.rows<{ id: string }>(`SELECT id FROM ${T} WHERE ${where}`, ...bindings).map((r) => r.id);
  }

  /**
   * Whether the index holds an expired session (its expiry index answers at once). Entries are found
   * by session only by scanning the table (its metadata is not indexed), so the sweeps below, which
   * run on every index write, scan only when there is something to remove.
   */
  private anyExpired(now: number): boolean {
    return this.rows(`SELECT 1 FROM sessions WHERE expires_at <= ? LIMIT 1`, now).length > 0;
  }

  /** The ids of the entries of sessions the index holds as expired. */
  expiredIds(now: number): string[] {
    if (!this.anyExpired(now)) return [];
    return this.rows<{ id: string }>(`SELECT id FROM ${T} WHERE session_id IN (SELECT session_id FROM sessions WHERE expires_at <= ?)`, now).map((r) => r.id);
  }

  /** Removes the entries of sessions the index holds as expired (before the index forgets them). */
  removeExpired(now: number): void {
    if (!this.anyExpired(now)) return;
    this.sql.exec(`DELETE FROM ${T} WHERE session_id IN (SELECT session_id FROM sessions WHERE expires_at <= ?)`, now);
  }

  /**
   * The best BM25 matches, best first; `score` is the negated BM25 (higher is better). `match` is
   * searched in `text` only: a column filter keeps whatever it says from reaching the metadata.
   */
  searchText(match: string, userId: string | undefined, limit: number): (MemoryHit & { id: string })[] {
    const [and, bindings] = userFilter(userId);
    return this.rows<MemoryRow & { rank: number }>(
      `SELECT ${COLUMNS}, bm25(${T}) AS rank FROM ${T} WHERE ${T} MATCH ?${and} ORDER BY rank LIMIT ?`,
      `text : (${match})`,
      ...bindings,
      limit,
    ).map((r) => ({ ...hit(r, -r.rank), id: r.id }));
  }

  /** The newest entries with a vector (at most the scan cap), for an exact cosine scan. */
  vectors(userId: string | undefined): { id: string; vector: Float32Array }[] {
    const [and, bindings] = userFilter(userId);
    return this.rows<{ id: string; vector: ArrayBuffer }>(
      `SELECT id, vector FROM ${T} WHERE vector IS NOT NULL${and} ORDER BY time DESC, rowid DESC LIMIT ?`,
      ...bindings,
      MEMORY_LIMITS.vectorScanCap,
    ).map((r) => ({ id: r.id, vector: new Float32Array(r.vector) }));
  }

  /** Entries by id, as hits scored `score(id)`, in the order asked (an id this store does not hold is left out). */
  byIds(ids: readonly string[], score: (id: string) => number): MemoryHit[] {
    if (ids.length === 0) return [];
    const found = this.find(ids);
    return ids.flatMap((id) => {
      const row = found.get(id)!;
      return "taken" in row ? [] : [hit(row, score(id))];
    });
  }

  /** How many entries the product's memory (or one session) has. */
  count(sessionId?: string): number {
    const [where, bindings] = sessionId === undefined ? ["", []] : [" WHERE session_id = ?", [sessionId]];
    return this.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM ${T}${where}`, ...bindings)[0]!.n;
  }
}
