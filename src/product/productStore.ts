/**
 * @module
 * Every SQL statement of the product actor, behind typed methods: its settings, the key registry
 * (in the instance named `*`) and the session index. Synchronous (SQLite-backed storage).
 */
import type { ProductSettings } from "../config/product";
import type { ProductSet, Scope } from "./scopes";
import type { ApiKeyRow, IndexRow, SettingsRow } from "./schema";
import type { IndexEntry, ListQuery, SessionStatus } from "./sessionIndex";
import { metered } from "../meter";

/** A key as the registry keeps it: everything but the secret, and the secret's hash. */
export interface StoredKey {
  id: string;
  name: string;
  products: ProductSet;
  scopes: Scope[];
  hash: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

type Row = Record<string, SqlStorageValue>;

function storedKey(r: ApiKeyRow): StoredKey {
  return {
    id: r.id,
    name: r.name,
    products: r.products === "*" ? "*" : (JSON.parse(r.products) as string[]),
    scopes: JSON.parse(r.scopes) as Scope[],
    hash: r.hash,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

function indexEntry(r: IndexRow): IndexEntry {
  return {
    session_id: r.session_id,
    epoch: r.epoch,
    user_id: r.user_id,
    link: r.link,
    created_at: r.created_at,
    last_activity_at: r.last_activity_at,
    expires_at: r.expires_at,
    counts: JSON.parse(r.counts) as IndexEntry["counts"],
    step: r.step === null ? null : (JSON.parse(r.step) as IndexEntry["step"]),
  };
}

/** The SQL condition for a status at `now` (see `statusOf`: parked, else idle, else linked or active). */
function statusCondition(status: SessionStatus, idleCutoff: number): { sql: string; bindings: unknown[] } {
  switch (status) {
    case "parked":
      return { sql: "parked = 1", bindings: [] };
    case "idle":
      return { sql: "parked = 0 AND last_activity_at <= ?", bindings: [idleCutoff] };
    case "linked":
      return { sql: "parked = 0 AND last_activity_at > ? AND link IS NOT NULL", bindings: [idleCutoff] };
    case "active":
      return { sql: "parked = 0 AND last_activity_at > ? AND link IS NULL", bindings: [idleCutoff] };
  }
}

export class ProductStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** Every statement through the meter (`METER=on`), as the session's store does. */
  private get sql(): SqlStorage {
    return metered(this.storage.sql);
  }

  transactionSync<T>(fn: () => T): T {
    try {
      return this.storage.transactionSync(fn);
    } catch (err) {
      this.storedSettings = undefined;
      throw err;
    }
  }

  private all<T>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec<Row>(query, ...bindings).toArray() as unknown as T[];
  }

  // ---- settings ----------------------------------------------------------------------------

  /**
   * The settings as last read or written (undefined: ask storage). The actor is their only writer,
   * and every memory write and index read consults them: one read per actor start, not per call.
   */
  private storedSettings: { settings: ProductSettings; updatedAt: number } | null | undefined = undefined;

  /** The product's settings (a fresh copy: callers may change it). */
  settings(): { settings: ProductSettings; updatedAt: number } | null {
    if (this.storedSettings === undefined) {
      const row = this.all<SettingsRow>("SELECT * FROM settings WHERE id = 1")[0];
      this.storedSettings = row ? { settings: JSON.parse(row.json) as ProductSettings, updatedAt: row.updated_at } : null;
    }
    return this.storedSettings && structuredClone(this.storedSettings);
  }

  putSettings(settings: ProductSettings, now: number): void {
    this.sql.exec(
      "INSERT INTO settings (id, json, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
      JSON.stringify(settings),
      now,
    );
    this.storedSettings = { settings: structuredClone(settings), updatedAt: now };
  }

  // ---- keys (the registry) -----------------------------------------------------------------

  insertKey(k: Omit<StoredKey, "lastUsedAt" | "revokedAt">): void {
    this.sql.exec(
      "INSERT INTO api_keys (id, name, products, scopes, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      k.id,
      k.name,
      k.products === "*" ? "*" : JSON.stringify(k.products),
      JSON.stringify(k.scopes),
      k.hash,
      k.createdAt,
    );
  }

  key(id: string): StoredKey | null {
    const row = this.all<ApiKeyRow>("SELECT * FROM api_keys WHERE id = ?", id)[0];
    return row ? storedKey(row) : null;
  }

  keys(): StoredKey[] {
    return this.all<ApiKeyRow>("SELECT * FROM api_keys ORDER BY created_at, id").map(storedKey);
  }

  /** Revokes once: a second revocation keeps the first time. */
  revokeKey(id: string, now: number): void {
    this.sql.exec("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", now, id);
  }

  touchKey(id: string, at: number): void {
    this.sql.exec("UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?", at, id);
  }

  // ---- the session index -------------------------------------------------------------------

  /** Writes a session's entry whole. An entry of an older incarnation never overwrites a newer one. */
  upsertSession(e: IndexEntry, now: number): void {
    this.sql.exec(
      `INSERT INTO sessions (session_id, epoch, user_id, link, created_at, last_activity_at, expires_at, parked, counts, step, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET epoch = excluded.epoch, user_id = excluded.user_id, link = excluded.link,
         created_at = excluded.created_at, last_activity_at = excluded.last_activity_at, expires_at = excluded.expires_at,
         parked = excluded.parked, counts = excluded.counts, step = excluded.step, updated_at = excluded.updated_at
       WHERE excluded.created_at >= sessions.created_at`,
      e.session_id,
      e.epoch,
      e.user_id,
      e.link,
      e.created_at,
      e.last_activity_at,
      e.expires_at,
      e.step?.parked ? 1 : 0,
      JSON.stringify(e.counts),
      e.step === null ? null : JSON.stringify(e.step),
      now,
    );
  }

  /** Removes a session's entry; with `epoch`, only that incarnation's (a newer one stays). */
  removeSession(sessionId: string, epoch?: string): void {
    if (epoch === undefined) this.sql.exec("DELETE FROM sessions WHERE session_id = ?", sessionId);
    else this.sql.exec("DELETE FROM sessions WHERE session_id = ? AND epoch = ?", sessionId, epoch);
  }

  /** Drops entries whose session has expired, whether or not it said so (walks the expiry index). */
  dropExpired(now: number): void {
    this.sql.exec("DELETE FROM sessions WHERE expires_at <= ?", now);
  }

  /** A page of entries, newest activity first; `limit + 1` rows so the caller knows whether more follow. */
  listSessions(q: ListQuery, now: number, idleMs: number): IndexEntry[] {
    const where: string[] = ["expires_at > ?"];
    const bindings: unknown[] = [now];
    if (q.userId !== undefined) {
      where.push("user_id = ?");
      bindings.push(q.userId);
    }
    if (q.status !== undefined) {
      const c = statusCondition(q.status, now - idleMs);
      where.push(c.sql);
      bindings.push(...c.bindings);
    }
    if (q.after) {
      where.push("(last_activity_at, session_id) < (?, ?)");
      bindings.push(q.after.lastActivityAt, q.after.sessionId);
    }
    return this.all<IndexRow>(
      `SELECT * FROM sessions WHERE ${where.join(" AND ")} ORDER BY last_activity_at DESC, session_id DESC LIMIT ?`,
      ...bindings,
      q.limit + 1,
    ).map(indexEntry);
  }
}
