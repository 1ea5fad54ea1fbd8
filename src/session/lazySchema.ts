/**
 * @module
 * The session's tables, created on its first write: a read of an unknown session (a probe, a
 * mistyped id) stores nothing. A session whose tables exist is migrated on first touch.
 */
import { metered } from "../meter";
import { migrate } from "./migrations";

export class LazySchema {
  private ready = false;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** True when the tables exist (migrated to the current version on the first true). */
  exists(): boolean {
    if (this.ready) return true;
    const found = metered(this.storage.sql)
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_migrations'")
      .toArray().length;
    this.ready = found > 0;
    if (this.ready) migrate(this.storage);
    return this.ready;
  }

  /** Before a write: creates (or migrates) the tables. */
  ensure(): void {
    if (this.ready) return;
    migrate(this.storage);
    this.ready = true;
  }

  /** After the storage was erased: the next write creates the tables again. */
  forget(): void {
    this.ready = false;
  }
}
