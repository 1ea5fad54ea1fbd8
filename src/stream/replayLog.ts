/**
 * @module
 * A product's replay log in its hub's SQLite: every payload published, with an id that only
 * grows (AUTOINCREMENT: an id is never reused, even after the rows before it are pruned), kept
 * for the newest `STREAM_REPLAY_EVENTS` and `STREAM_REPLAY_MAX_AGE_MS`. A key is kept once, so a
 * lane's retry after a lost answer appends nothing.
 */
import type { StreamConfig } from "../config";
import { applyMigrations, type Migration } from "../storage/migrations";

export const STREAM_MIGRATIONS: readonly Migration[] = [
  {
    id: "000_events",
    sql: `CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, data TEXT NOT NULL);`,
  },
];

export type LoggedEvent = {
  id: number;
  data: string;
};

/** What a reconnect gets: the events after its id, and whether some in between were pruned. */
export interface Replay {
  events: LoggedEvent[];
  /** The first id replayed when events after `after` are gone from the log, else null. */
  missedUntil: number | null;
}

export class ReplayLog {
  private readonly sql: SqlStorage;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly bounds: Pick<StreamConfig, "replayEvents" | "replayMaxAgeMs">,
  ) {
    applyMigrations(storage, STREAM_MIGRATIONS);
    this.sql = storage.sql;
  }

  /** Appends a payload under `key`; null when that key is already in the log. */
  append(key: string, data: string, now: number): number | null {
    return this.storage.transactionSync(() => {
      // Looked up first: an insert the key refuses would still advance AUTOINCREMENT, leaving a gap.
      if (this.sql.exec("SELECT 1 FROM events WHERE key = ?", key).toArray().length > 0) return null;
      const { id } = this.sql.exec<{ id: number }>("INSERT INTO events (key, at, data) VALUES (?, ?, ?) RETURNING id", key, now, data).one();
      this.prune(id, now);
      return id;
    });
  }

  /** Past the count bound by id (one indexed range), past the age bound only when the oldest row is that old. */
  private prune(newest: number, now: number): void {
    this.sql.exec("DELETE FROM events WHERE id <= ?", newest - this.bounds.replayEvents);
    const cutoff = now - this.bounds.replayMaxAgeMs;
    const oldest = this.sql.exec<{ at: number }>("SELECT at FROM events ORDER BY id LIMIT 1").toArray()[0];
    if (oldest && oldest.at < cutoff) this.sql.exec("DELETE FROM events WHERE at < ?", cutoff);
  }

  /** The last id ever given (0 before the first event). */
  lastId(): number {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").toArray()[0]?.seq ?? 0;
  }

  /** The events after `after` still within the bounds, oldest first. */
  replay(after: number, now: number): Replay {
    const cutoff = now - this.bounds.replayMaxAgeMs;
    const events = this.sql.exec<LoggedEvent>("SELECT id, data FROM events WHERE id > ? AND at >= ? ORDER BY id", after, cutoff).toArray();
    const last = this.lastId();
    const resumesAt = events[0]?.id ?? last + 1;
    // An id from before a wipe of the log (greater than any given) has nothing to replay here.
    const missedUntil = after < last && resumesAt > after + 1 ? resumesAt : null;
    return { events, missedUntil };
  }

  /** How many events the log holds and the oldest id among them. */
  size(): { events: number; oldestId: number | null } {
    const row = this.sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(id) AS oldest FROM events").toArray()[0]!;
    return { events: row.n, oldestId: row.oldest };
  }
}
