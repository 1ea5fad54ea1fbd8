/**
 * @module
 * Retry timing for failed steps: exponential from the step's attempt count, capped, with
 * jitter so that many sessions failing together do not retry together.
 */

export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_CAP_MS = 10 * 60_000;
/**
 * A parked step (too many attempts, or a permanent error) is first probed again after an hour,
 * then after as long as it has been parked (1 h, 2 h, 4 h, … ), at most a day apart: a session
 * parked for a week costs about a dozen alarms, not 168.
 */
export const PARKED_RETRY_MS = 60 * 60_000;
export const PARKED_RETRY_CAP_MS = 24 * 60 * 60_000;

/**
 * Delay before attempt `attempts + 1`. "Equal jitter": half fixed, half random, so a retry is
 * never immediate. `retryAfterMs` (Retry-After, X-RateLimit-Reset) is a floor.
 */
export function backoffMs(attempts: number, random: number, retryAfterMs = 0): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  const jittered = exp / 2 + (random * exp) / 2;
  return Math.max(Math.round(jittered), retryAfterMs);
}

export interface Failure {
  /** Attempts so far, this one included. */
  attempts: number;
  maxAttempts: number;
  /** Retrying cannot help (a 401, a 404, bad settings): park now. */
  permanent: boolean;
  now: number;
  random: number;
  retryAfterMs?: number;
  /** When the step was parked, if it already is. */
  parkedSince: number | null;
}

/** After a failure: when to try again, and whether the step is now parked. */
export function nextAttempt(f: Failure): { nextAttemptAt: number; parked: boolean } {
  if (f.permanent || f.attempts >= f.maxAttempts) {
    const parkedFor = f.parkedSince === null ? 0 : f.now - f.parkedSince;
    return { nextAttemptAt: f.now + Math.min(PARKED_RETRY_CAP_MS, Math.max(PARKED_RETRY_MS, parkedFor)), parked: true };
  }
  return { nextAttemptAt: f.now + backoffMs(f.attempts, f.random, f.retryAfterMs), parked: false };
}
