/**
 * @module
 * The keys a session has applied (`seen_keys`), each for `IDEMPOTENCY_TTL_MS`: whether a batch
 * is new, a replay or a conflicting reuse, which of a source batch's events are new, and
 * forgetting keys by age. Reads take the cutoff (the oldest live `seen_at`), so an expired row
 * that is not pruned yet never counts.
 */
import { batchRow, keyVerdict, requestRow, type Dedupe, type KeyVerdict } from "../dedupe";
import type { SlimAction } from "../model";
import { LaneRows } from "./laneRows";

/** A key to remember once its batch is applied. */
export interface SeenKey {
  key: string;
  fingerprint: string | null;
}

/**
 * What ingest may apply of a batch. A fresh batch's single key is claimed at once (`claimed`: given
 * back with `unclaim` if the batch is then refused); other keys are remembered once it is applied.
 */
export type Admission =
  | { verdict: "conflict" }
  | { verdict: "duplicate"; seen: number }
  | { verdict: "fresh"; actions: SlimAction[]; seen: number; remember: SeenKey[]; claimed: string | null };

export class SeenKeyRows extends LaneRows {
  /** The fingerprint stored for a live key: undefined if not seen, null if stored without one. */
  private fingerprintOf(key: string, since: number): string | null | undefined {
    const row = this.first<{ fingerprint: string | null }>("SELECT fingerprint FROM seen_keys WHERE key = ? AND seen_at >= ?", key, since);
    return row ? row.fingerprint : undefined;
  }

  private seenAmong(keys: readonly string[], since: number): Set<string> {
    if (keys.length === 0) return new Set();
    const rows = this.all<{ key: string }>(
      "SELECT key FROM seen_keys WHERE seen_at >= ? AND key IN (SELECT value FROM json_each(?))",
      since,
      JSON.stringify(keys),
    );
    return new Set(rows.map((r) => r.key));
  }

  /** An Idempotency-Key's verdict in this session, without writing. */
  idempotencyVerdict(idempotencyKey: string, fingerprint: string, since: number): KeyVerdict {
    return keyVerdict(this.fingerprintOf(requestRow(idempotencyKey), since), fingerprint);
  }

  /**
   * Writes `key` as seen now unless it is live here (one statement for a new key, where a read and
   * a write were two): true when it was not, and now is.
   */
  private claim(key: string, fingerprint: string | null, since: number, now: number): boolean {
    return (
      this.all(
        `INSERT INTO seen_keys (key, fingerprint, seen_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, seen_at = excluded.seen_at WHERE seen_keys.seen_at < ? RETURNING 1`,
        key,
        fingerprint,
        now,
        since,
      ).length > 0
    );
  }

  /** A claimed key's batch was refused after all: it can be sent again. */
  unclaim(key: string): void {
    this.sql.exec("DELETE FROM seen_keys WHERE key = ?", key);
  }

  /**
   * Decides what of `actions` is new under `d`. A batch with one key (an Idempotency-Key for the
   * whole body, or its content) claims it; otherwise it reads only, so a refused batch stores nothing.
   */
  admission(d: Dedupe, actions: readonly SlimAction[], since: number, now: number): Admission {
    if (d.kind === "events") return this.newEvents(d.keys, actions, since);
    const fresh = (remember: SeenKey[], claimed: string | null): Admission => ({ verdict: "fresh", actions: [...actions], seen: 0, remember, claimed });
    const duplicate: Admission = { verdict: "duplicate", seen: actions.length };
    if (d.kind === "content") return this.claim(d.key, null, since, now) ? fresh([], d.key) : duplicate;
    if (d.batch === null) {
      const key = requestRow(d.key);
      if (this.claim(key, d.fingerprint, since, now)) return fresh([], key);
      return this.idempotencyVerdict(d.key, d.fingerprint, since) === "conflict" ? { verdict: "conflict" } : duplicate;
    }
    // One batch of an array body: the request's row is kept once, and each batch has its own.
    const verdict = this.idempotencyVerdict(d.key, d.fingerprint, since);
    if (verdict === "conflict") return { verdict: "conflict" };
    const row = batchRow(d)!;
    if (this.fingerprintOf(row, since) !== undefined) return duplicate;
    return fresh([...(verdict === "new" ? [{ key: requestRow(d.key), fingerprint: d.fingerprint }] : []), { key: row, fingerprint: null }], null);
  }

  /** Source events: the actions whose event key is neither stored nor earlier in this batch. */
  private newEvents(keys: readonly string[], actions: readonly SlimAction[], since: number): Admission {
    if (keys.length !== actions.length) throw new Error("a source batch needs one event key per action");
    const taken = this.seenAmong(keys, since);
    const fresh: SlimAction[] = [];
    const remember: SeenKey[] = [];
    keys.forEach((key, i) => {
      if (taken.has(key)) return;
      taken.add(key);
      fresh.push(actions[i]!);
      remember.push({ key, fingerprint: null });
    });
    const seen = actions.length - fresh.length;
    if (actions.length > 0 && fresh.length === 0) return { verdict: "duplicate", seen };
    return { verdict: "fresh", actions: fresh, seen, remember, claimed: null };
  }

  rememberSeen(keys: readonly SeenKey[], now: number): void {
    for (const { key, fingerprint } of keys) {
      this.sql.exec("INSERT OR REPLACE INTO seen_keys (key, fingerprint, seen_at) VALUES (?, ?, ?)", key, fingerprint, now);
    }
  }

  /** Drops keys older than the cutoff (a scan: rows read are cheap, an age index cost two writes per key). */
  forgetSeenBefore(cutoff: number): void {
    this.sql.exec("DELETE FROM seen_keys WHERE seen_at < ?", cutoff);
  }

  seenKeyCount(): number {
    return this.first<{ n: number }>("SELECT COUNT(*) AS n FROM seen_keys")!.n;
  }
}
