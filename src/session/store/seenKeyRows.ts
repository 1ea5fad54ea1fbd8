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

/** What ingest may apply of a batch, decided before it writes anything. */
export type Admission =
  | { verdict: "conflict" }
  | { verdict: "duplicate"; seen: number }
  | { verdict: "fresh"; actions: SlimAction[]; seen: number; remember: SeenKey[] };

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

  /** Decides what of `actions` is new under `d`; reads only, so a refused batch stores nothing. */
  admission(d: Dedupe, actions: readonly SlimAction[], since: number): Admission {
    if (d.kind === "events") return this.newEvents(d.keys, actions, since);
    const remember: SeenKey[] = [];
    if (d.kind === "idempotency") {
      const verdict = this.idempotencyVerdict(d.key, d.fingerprint, since);
      if (verdict === "conflict") return { verdict: "conflict" };
      if (verdict === "new") remember.push({ key: requestRow(d.key), fingerprint: d.fingerprint });
      // A single batch is applied when its request row is there.
      if (verdict === "replay" && d.batch === null) return { verdict: "duplicate", seen: actions.length };
    }
    const row = batchRow(d);
    if (row !== null) {
      if (this.fingerprintOf(row, since) !== undefined) return { verdict: "duplicate", seen: actions.length };
      remember.push({ key: row, fingerprint: null });
    }
    return { verdict: "fresh", actions: [...actions], seen: 0, remember };
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
    return { verdict: "fresh", actions: fresh, seen, remember };
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
