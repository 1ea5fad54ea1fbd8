/**
 * @module
 * Retry timing for failed steps: exponential from the step's attempt count, capped, with
 * jitter so that many sessions failing together do not retry together.
 */

export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_CAP_MS = 10 * 60_000;
/** A parked step (too many attempts, or a permanent error) is probed again this rarely. */
export const PARKED_RETRY_MS = 60 * 60_000;

/**
 * Delay before attempt `attempts + 1`. "Equal jitter": half fixed, half random, so a retry is
 * never immediate. `retryAfterMs` (Retry-After, X-RateLimit-Reset) is a floor.
 */
export function backoffMs(attempts: number, random: number, retryAfterMs = 0): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  const jittered = exp / 2 + (random * exp) / 2;
  return Math.max(Math.round(jittered), retryAfterMs);
}

/** After a failure: when to try again, and whether the step is now parked. */
export function nextAttempt(
  attempts: number,
  maxAttempts: number,
  permanent: boolean,
  now: number,
  random: number,
  retryAfterMs = 0,
): { nextAttemptAt: number; parked: boolean } {
  if (permanent || attempts >= maxAttempts) return { nextAttemptAt: now + PARKED_RETRY_MS, parked: true };
  return { nextAttemptAt: now + backoffMs(attempts, random, retryAfterMs), parked: false };
}
