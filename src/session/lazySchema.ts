/**
 * @module
 * The session's tables, created on its first write: a read of an unknown session (a probe, a
 * mistyped id) stores nothing. A session whose tables exist is migrated on first touch.
 */
import { recordedMigrations } from "../storage/migrations";
import { migrate, MIGRATIONS } from "./migrations";

export class LazySchema {
  private ready = false;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** True when the tables exist (migrated to the current version on the first true). */
  exists(): boolean {
    if (this.ready) return true;
    // One read at an actor's start tells both whether the tables exist and whether they are current.
    const recorded = recordedMigrations(this.storage, MIGRATIONS);
    if (recorded === null) return false;
    if (recorded.length < MIGRATIONS.length) migrate(this.storage);
    this.ready = true;
    return true;
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
