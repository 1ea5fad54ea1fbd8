/**
 * @module
 * Every SQL statement of a product's memory: upsert by id (exactly once, however often a step
 * repeats), removal by session, full-text search (BM25) and the vectors an exact cosine scan
 * reads. Synchronous (SQLite-backed storage).
 */
import { metered } from "../../meter";
import type { MemoryRow } from "../schema";
import { MEMORY_LIMITS, type MemoryEntry, type MemoryHit } from "./types";

type Row = Record<string, SqlStorageValue>;
type HitRow = MemoryRow & { text: string; rank: number };

const hit = (r: HitRow, score: number): MemoryHit => ({
  summary: r.text,
  session_id: r.session_id,
  user_id: r.user_id,
  window: r.window_id,
  time: r.time,
  extractive: r.extractive === 1,
  score,
});

const userFilter = (userId: string | undefined): [string, unknown[]] => (userId === undefined ? ["", []] : [" AND m.user_id = ?", [userId]]);

export class MemoryStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql(): SqlStorage {
    return metered(this.storage.sql);
  }

  private rows<T>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec<Row>(query, ...bindings).toArray() as T[];
  }

  /** Writes the entry under its id: a second write of the same id replaces the first, never adds a row. */
  upsert(entry: MemoryEntry, vector: Float32Array | null): void {
    this.storage.transactionSync(() => {
      const blob = vector ? vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength) : null;
      const [existing] = this.rows<{ seq: number }>("SELECT seq FROM memory WHERE id = ?", entry.id);
      const meta = [entry.session_id, entry.epoch, entry.user_id, entry.window, entry.time, entry.extractive ? 1 : 0, blob];
      if (existing) {
        this.sql.exec(
          "UPDATE memory SET session_id = ?, epoch = ?, user_id = ?, window_id = ?, time = ?, extractive = ?, vector = ? WHERE seq = ?",
          ...meta,
          existing.seq,
        );
        this.sql.exec("UPDATE memory_fts SET text = ? WHERE rowid = ?", entry.text, existing.seq);
        return;
      }
      const [inserted] = this.rows<{ seq: number }>(
        "INSERT INTO memory (id, session_id, epoch, user_id, window_id, time, extractive, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        entry.id,
        ...meta,
      );
      this.sql.exec("INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", inserted!.seq, entry.text);
    });
  }

  /** Removes a session's entries (of one epoch when given) from the text index and the vectors. */
  removeSession(sessionId: string, epoch?: string): void {
    const [where, bindings] = epoch === undefined ? ["session_id = ?", [sessionId]] : ["session_id = ? AND epoch = ?", [sessionId, epoch]];
    this.storage.transactionSync(() => {
      this.sql.exec(`DELETE FROM memory_fts WHERE rowid IN (SELECT seq FROM memory WHERE ${where})`, ...bindings);
      this.sql.exec(`DELETE FROM memory WHERE ${where}`, ...bindings);
    });
  }

  /** The ids of a session's entries (of one epoch when given). */
  idsOf(sessionId: string, epoch?: string): string[] {
    const [where, bindings] = epoch === undefined ? ["session_id = ?", [sessionId]] : ["session_id = ? AND epoch = ?", [sessionId, epoch]];
    return this.rows<{ id: string }>(`SELECT id FROM memory WHERE ${where}`, ...bindings).map((r) => r.id);
  }

  /** The ids of the entries of sessions the index holds as expired. */
  expiredIds(now: number): string[] {
    return this.rows<{ id: string }>("SELECT id FROM memory WHERE session_id IN (SELECT session_id FROM sessions WHERE expires_at <= ?)", now).map((r) => r.id);
  }

  /** Removes the entries of sessions the index holds as expired (before the index forgets them). */
  removeExpired(now: number): void {
    const expired = "SELECT session_id FROM sessions WHERE expires_at <= ?";
    this.sql.exec(`DELETE FROM memory_fts WHERE rowid IN (SELECT seq FROM memory WHERE session_id IN (${expired}))`, now);
    this.sql.exec(`DELETE FROM memory WHERE session_id IN (${expired})`, now);
  }

  /** The best BM25 matches, best first; `score` is the negated BM25 (higher is better). */
  searchText(match: string, userId: string | undefined, limit: number): (MemoryHit & { id: string })[] {
    const [and, bindings] = userFilter(userId);
    return this.rows<HitRow>(
      `SELECT m.*, memory_fts.text AS text, bm25(memory_fts) AS rank FROM memory_fts JOIN memory m ON m.seq = memory_fts.rowid
       WHERE memory_fts MATCH ?${and} ORDER BY rank LIMIT ?`,
      match,
      ...bindings,
      limit,
    ).map((r) => ({ ...hit(r, -r.rank), id: r.id }));
  }

  /** The newest entries with a vector (at most the scan cap), for an exact cosine scan. */
  vectors(userId: string | undefined): { id: string; vector: Float32Array }[] {
    const [and, bindings] = userFilter(userId);
    return this.rows<{ id: string; vector: ArrayBuffer }>(
      `SELECT m.id, m.vector FROM memory m WHERE m.vector IS NOT NULL${and} ORDER BY m.seq DESC LIMIT ?`,
      ...bindings,
      MEMORY_LIMITS.vectorScanCap,
    ).map((r) => ({ id: r.id, vector: new Float32Array(r.vector) }));
  }

  /** Entries by id, as hits scored `score(id)`. */
  byIds(ids: readonly string[], score: (id: string) => number): MemoryHit[] {
    if (ids.length === 0) return [];
    const found = this.rows<HitRow>(
      `SELECT m.*, memory_fts.text AS text, 0 AS rank FROM memory m JOIN memory_fts ON memory_fts.rowid = m.seq WHERE m.id IN (${ids.map(() => "?").join(", ")})`,
      ...ids,
    );
    const byId = new Map(found.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [hit(r, score(id))] : [];
    });
  }

  /** How many entries the product's memory (or one session) has. */
  count(sessionId?: string): number {
    const [where, bindings] = sessionId === undefined ? ["", []] : [" WHERE session_id = ?", [sessionId]];
    return this.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM memory${where}`, ...bindings)[0]!.n;
  }
}
