/**
 * @module
 * The per-session backlog bound, as pure rules. A session's backlog is what it stores and has not
 * yet covered with a posted summary: the batches of the open window and of closed windows whose
 * summary is not posted. Past the bound, ingest refuses a batch whole, so a burst that outruns the
 * LLM (or a destination that is down) costs the sender a retry, never unbounded rows.
 */
import type { SlimAction } from "./model";

/** What a batch, or a backlog, weighs: actions, and bytes as stored (UTF-8 JSON). */
export interface Footprint {
  actions: number;
  bytes: number;
}

export interface BacklogLimits {
  maxPendingActions: number;
  maxPendingBytes: number;
}

/** Retry-After bounds: soon enough to find room once a window is posted, never longer than a minute. */
const MIN_RETRY_AFTER_MS = 5_000;
const MAX_RETRY_AFTER_MS = 60_000;

const encoder = new TextEncoder();

/** The footprint of a batch's actions as the store keeps them (`JSON.stringify`, UTF-8). */
export function footprintOf(actions: readonly SlimAction[]): Footprint {
  return { actions: actions.length, bytes: actions.length === 0 ? 0 : encoder.encode(JSON.stringify(actions)).byteLength };
}

export function addFootprints(a: Footprint, b: Footprint): Footprint {
  return { actions: a.actions + b.actions, bytes: a.bytes + b.bytes };
}

/** True when `incoming` alone is over the bound: no amount of waiting makes room for it. */
export function exceedsBound(incoming: Footprint, limits: BacklogLimits): boolean {
  return incoming.actions > limits.maxPendingActions || incoming.bytes > limits.maxPendingBytes;
}

/** A batch with no action always fits (it stores none); any other fits while the backlog stays within both bounds. */
export function hasRoom(pending: Footprint, incoming: Footprint, limits: BacklogLimits): boolean {
  return incoming.actions === 0 || !exceedsBound(addFootprints(pending, incoming), limits);
}

/**
 * How long a refused sender should wait: until the session's next alarm (nothing drains before
 * it: a backoff, the LLM breaker's pause), at least a few seconds and at most a minute.
 */
export function backlogRetryAfterMs(nextAlarmAt: number | null, now: number): number {
  const wait = nextAlarmAt === null ? MIN_RETRY_AFTER_MS : nextAlarmAt - now;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, wait));
}
