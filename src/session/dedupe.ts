/**
 * @module
 * How a session recognises what it has already applied (pure; the rows live in `seen_keys`).
 * Three kinds of key, each remembered for `IDEMPOTENCY_TTL_MS`:
 * - `content`: no Idempotency-Key, so the batch's own content hash (a retry is the same bytes);
 * - `idempotency`: the caller's key plus the fingerprint of the whole request it came with, so a
 *   replay is a no-op and a reuse with other data is a conflict (Stripe's rule);
 * - `events`: source events (PostHog `uuid`, Segment `messageId`), one key per action, so a
 *   re-batched redelivery stores only the events not seen before.
 */

export type Dedupe =
  | { kind: "content"; key: string }
  /** `batch` is the index in an array body, null for a body that is one batch. */
  | { kind: "idempotency"; key: string; batch: number | null; fingerprint: string }
  /** One key per action of the batch, in the same order. */
  | { kind: "events"; keys: readonly string[] };

/** What ingest did with a batch; `seen` counts the actions dropped as already applied. */
export type IngestOutcome =
  | { outcome: "applied"; actions: number; seen: number }
  | { outcome: "duplicate"; actions: 0; seen: number }
  | { outcome: "conflict"; actions: 0; seen: 0 }
  /** The session's backlog is full: nothing stored; the sender retries after `retryAfterMs`. */
  | { outcome: "backlog"; actions: 0; seen: 0; retryAfterMs: number };

/** What a session says about an Idempotency-Key before a request spanning several sessions applies. */
export type KeyVerdict = "new" | "replay" | "conflict";

/**
 * The row that holds an Idempotency-Key's fingerprint: one per key and session, whatever the body
 * shape, so a key reused for a single batch after an array (or the reverse) is a conflict too.
 * `idem:{key}` is also the row the previous design wrote for a single batch, so those replays
 * stay duplicates across the upgrade.
 */
export const requestRow = (idempotencyKey: string): string => `idem:${idempotencyKey}`;

/**
 * The row that says this batch was applied, or null when the request row says it (a single
 * batch). An array's batch rows start `idem[`, a request row `idem:`, so `z:0` and batch 0 of `z`
 * can never share one.
 */
export function batchRow(d: Dedupe): string | null {
  if (d.kind === "content") return d.key;
  if (d.kind === "idempotency") return d.batch === null ? null : `idem[${d.batch}]:${d.key}`;
  return null;
}

/**
 * The verdict on an Idempotency-Key given the fingerprint stored for it (undefined: never seen;
 * null: stored before fingerprints were, so any body counts as the same request, as it did).
 */
export function keyVerdict(stored: string | null | undefined, fingerprint: string): KeyVerdict {
  if (stored === undefined) return "new";
  return stored === null || stored === fingerprint ? "replay" : "conflict";
}
