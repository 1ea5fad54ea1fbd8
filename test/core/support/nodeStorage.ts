/// <reference types="node" />
/**
 * A stand-in for SQLite-backed Durable Object storage on `node:sqlite`, enough for
 * SessionStore and migrations: `sql.exec` with cursors, `transactionSync` (rolls back on throw,
 * nests with savepoints) and `databaseSize`; BLOBs bound and read as `ArrayBuffer`, as DO SQLite has them.
 * Not identical to DO SQLite: the real checks run in workerd.
 */
import { DatabaseSync } from "node:sqlite";

class Cursor<T> {
  constructor(private readonly rows: T[]) {}
  toArray(): T[] {
    return this.rows;
  }
  one(): T {
    if (this.rows.length !== 1) throw new Error(`expected one row, got ${this.rows.length}`);
    return this.rows[0]!;
  }
}

const toNode = (v: unknown) => (v instanceof ArrayBuffer ? new Uint8Array(v) : v);
const fromNode = (v: unknown) => (v instanceof Uint8Array ? v.slice().buffer : v);

export function createNodeStorage(): DurableObjectStorage {
  const db = new DatabaseSync(":memory:");
  let depth = 0;
  const statements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();
  const prepare = (query: string) => {
    let st = statements.get(query);
    if (!st) statements.set(query, (st = db.prepare(query)));
    return st;
  };
  const sql = {
    exec<T>(query: string, ...bindings: unknown[]) {
      const parts = query.split(";").map((s) => s.trim()).filter(Boolean);
      if (parts.length > 1) {
        if (bindings.length) throw new Error("bindings with several statements are not supported here");
        db.exec(query);
        return new Cursor<T>([]);
      }
      const rows = prepare(query).all(...(bindings.map(toNode) as never[])) as Record<string, unknown>[];
      return new Cursor<T>(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fromNode(v)])) as T));
    },
    get databaseSize() {
      const pages = prepare("PRAGMA page_count").get() as { page_count: number };
      const size = prepare("PRAGMA page_size").get() as { page_size: number };
      return pages.page_count * size.page_size;
    },
  };
  const storage = {
    sql,
    transactionSync<T>(fn: () => T): T {
      const name = `sp${depth}`;
      db.exec(depth === 0 ? "BEGIN" : `SAVEPOINT ${name}`);
      depth += 1;
      try {
        const result = fn();
        depth -= 1;
        db.exec(depth === 0 ? "COMMIT" : `RELEASE ${name}`);
        return result;
      } catch (err) {
        depth -= 1;
        db.exec(depth === 0 ? "ROLLBACK" : `ROLLBACK TO ${name}; RELEASE ${name}`);
        throw err;
      }
    },
  };
  return storage as unknown as DurableObjectStorage;
}
