/**
 * @module
 * The base of the session store: typed reads over the actor's SQLite storage and its
 * transactions. Synchronous (SQLite-backed Durable Object storage); callers group writes in
 * `tx` so each step commits whole.
 */
import { metered } from "../../meter";
import type { SlimAction } from "../model";

type Row = Record<string, SqlStorageValue>;

/**
 * A statement that leaves every cached read valid: one statement (a second could hide a write) that
 * only reads, or writes only the seen keys, which no cached read depends on (ingest claims a batch's
 * key before it reads the open window).
 */
const keepsCachedReads = (query: string): boolean =>
  !query.includes(";") && /^\s*(?:SELECT\b|(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|DELETE\s+FROM)\s+seen_keys\b)/i.test(query);

export abstract class SqlStore {
  /**
   * Counts the writes (and rollbacks, and erasures) this store has seen: a read cached at one
   * generation is what storage still holds while the generation stands. The actor is the only
   * writer of its storage, and every write goes through `sql`.
   */
  private generation = 0;
  /** Reads made at `memoGeneration`, by key (see `memo`). */
  private readonly memos = new Map<string, unknown>();
  private memoGeneration = 0;
  private readonly counted: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    const exec = (query: string, ...bindings: unknown[]) => {
      if (!keepsCachedReads(query)) this.generation++;
      return metered(storage.sql).exec<Row>(query, ...bindings);
    };
    this.counted = { exec, get databaseSize() { return storage.sql.databaseSize; } } as unknown as SqlStorage;
  }

  /** The one way to the session's SQL (metered when `METER=on`). */
  protected get sql(): SqlStorage {
    return this.counted;
  }

  /**
   * `read()`'s result while no write has followed it: a run of steps plans before each step, and
   * many of those plans follow no write. The result is shared: callers must not change it.
   */
  protected memo<T>(key: string, read: () => T): T {
    if (this.memoGeneration === this.generation && this.memos.has(key)) return this.memos.get(key) as T;
    const value = read();
    this.remember(key, value);
    return value;
  }

  /** What `memo(key, …)` would answer without reading, if it holds. */
  protected recall<T>(key: string): T | undefined {
    return this.memoGeneration === this.generation ? (this.memos.get(key) as T | undefined) : undefined;
  }

  /** Records a read made now under `key` (a wider read that answers a narrower one too). */
  protected remember(key: string, value: unknown): void {
    if (this.memoGeneration !== this.generation) {
      this.memos.clear();
      this.memoGeneration = this.generation;
    }
    this.memos.set(key, value);
  }

  protected all<T>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec<Row>(query, ...bindings).toArray() as unknown as T[];
  }

  protected first<T>(query: string, ...bindings: unknown[]): T | null {
    return this.all<T>(query, ...bindings)[0] ?? null;
  }

  /** The actions of the batches a query selects (`SELECT actions …`), in the query's order. */
  protected actionsOf(query: string, ...bindings: unknown[]): SlimAction[] {
    return this.all<{ actions: string }>(query, ...bindings).flatMap((r) => JSON.parse(r.actions) as SlimAction[]);
  }

  tx<T>(fn: () => T): T {
    try {
      return this.storage.transactionSync(fn);
    } catch (err) {
      // Rolled back: what a subclass derived from the writes no longer holds.
      this.forgetCaches();
      throw err;
    }
  }

  /** After the storage was erased or replaced behind this store: nothing read before holds. */
  forget(): void {
    this.forgetCaches();
  }

  /** Drops state cached from storage (see SessionRows, WindowRows, SummaryRows, LaneRows). */
  protected forgetCaches(): void {
    this.generation++;
  }
}
