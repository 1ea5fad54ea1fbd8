/**
 * @module
 * The base of the session store: typed reads over the actor's SQLite storage and its
 * transactions. Synchronous (SQLite-backed Durable Object storage); callers group writes in
 * `tx` so each step commits whole.
 */
import { metered } from "../../meter";
import type { SlimAction } from "../model";

type Row = Record<string, SqlStorageValue>;

export abstract class SqlStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** The one way to the session's SQL (metered when `METER=on`). */
  protected get sql(): SqlStorage {
    return metered(this.storage.sql);
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

  /** Drops state cached from storage (see SessionRows, WindowRows). */
  protected forgetCaches(): void {}
}
