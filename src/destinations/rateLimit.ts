/**
 * @module
 * The shared pace for one Intercom workspace token, kept per isolate.
 *
 * Intercom's limit belongs to the token (per app and per workspace, counted in 10-second windows), but every
 * session is its own Durable Object. Where should the shared pace live?
 *
 * - A pacing Durable Object keyed by a hash of the token would see every request, but it costs an extra
 *   round trip on every note and funnels all sessions of a workspace through one object in one place: a
 *   hot spot and a single point of failure that exists only to approximate a number Intercom already knows.
 * - Intercom reports the workspace-wide state on every authenticated response (`X-RateLimit-Remaining`,
 *   `X-RateLimit-Reset`). Those counters are computed on Intercom's side across all callers, so any isolate
 *   that reads them has the true global picture as of its last response, at no extra cost.
 *
 * So the pace lives here, in module scope: every session actor that runs in the same isolate shares one
 * {@link TokenPacer}, which learns from each response's headers, counts its own requests down locally
 * between responses, holds back a reserve for other isolates, and stops sending until the reset once the
 * reserve is reached or a 429 arrives. The error this leaves is bounded: isolates that read the same
 * `Remaining` can together overshoot the reserve, Intercom answers 429, and the 429's reset time is
 * honoured per response (the step retries after it). A 429 costs nothing but the rejected request, so an
 * occasional one is cheaper than a coordination hop on every note.
 */

/** Intercom counts in 10-second windows; used when a 429 comes without a reset time. */
export const RATE_LIMIT_WINDOW_MS = 10_000;
/** Share of the per-window limit left for other isolates and other apps on the workspace. */
export const RESERVE_FRACTION = 0.05;
/** Never ask to be woken sooner than this after a rate limit (clock skew, whole-second resets). */
export const MIN_RATE_LIMIT_WAIT_MS = 1_000;

export type PaceDecision = { kind: "go" } | { kind: "wait"; untilMs: number };

interface Bucket {
  limit: number | null;
  /** Intercom's last reported remaining count, minus the requests this isolate sent since. */
  remaining: number;
  resetAtMs: number;
  /** Set by a 429: send nothing before this. */
  blockedUntilMs: number;
}

/** Reads Intercom's rate-limit headers; null when they are absent (e.g. a request without valid credentials). */
export function readRateLimitHeaders(headers: Headers): { limit: number | null; remaining: number; resetAtMs: number } | null {
  const remaining = Number(headers.get("x-ratelimit-remaining") ?? Number.NaN);
  const reset = Number(headers.get("x-ratelimit-reset") ?? Number.NaN);
  if (!Number.isFinite(remaining) || !Number.isFinite(reset)) return null;
  const limit = Number(headers.get("x-ratelimit-limit") ?? Number.NaN);
  return { limit: Number.isFinite(limit) && limit > 0 ? limit : null, remaining: Math.max(0, remaining), resetAtMs: reset * 1000 };
}

/** When a 429 says to try again: its reset time, else one window from now; never sooner than the minimum. */
export function rateLimitedUntil(headers: Headers, now: number): number {
  const seen = readRateLimitHeaders(headers);
  const until = seen && seen.resetAtMs > now ? seen.resetAtMs : now + RATE_LIMIT_WINDOW_MS;
  return Math.max(until, now + MIN_RATE_LIMIT_WAIT_MS);
}

/**
 * Per-token pace. Keys are {@link paceKey} fingerprints, never tokens.
 *
 * Cases of {@link TokenPacer.acquire}:
 * - nothing known, or the known window has reset: go (the state is unknown until the next response);
 * - blocked by a 429 that has not reset: wait until then;
 * - remaining at or below the reserve: wait until the reset;
 * - otherwise: go, counting the request down locally.
 */
export class TokenPacer {
  readonly #buckets = new Map<string, Bucket>();

  acquire(key: string, now: number): PaceDecision {
    const b = this.#buckets.get(key);
    if (!b) return { kind: "go" };
    if (now >= b.resetAtMs && now >= b.blockedUntilMs) {
      this.#buckets.delete(key);
      return { kind: "go" };
    }
    if (b.blockedUntilMs > now) return { kind: "wait", untilMs: b.blockedUntilMs };
    if (b.remaining <= reserveOf(b.limit)) return { kind: "wait", untilMs: b.resetAtMs };
    b.remaining -= 1;
    return { kind: "go" };
  }

  /**
   * Learns from a response's headers. Responses can arrive out of order: within one window the lower
   * remaining count is the later state; a response from an older window is ignored.
   */
  observe(key: string, headers: Headers): void {
    const seen = readRateLimitHeaders(headers);
    if (!seen) return;
    const b = this.#buckets.get(key);
    if (!b || seen.resetAtMs > b.resetAtMs) {
      this.#buckets.set(key, { ...seen, blockedUntilMs: b?.blockedUntilMs ?? 0 });
    } else if (seen.resetAtMs === b.resetAtMs) {
      b.remaining = Math.min(b.remaining, seen.remaining);
      b.limit = seen.limit ?? b.limit;
    }
  }

  /**
   * After a 429: nothing more goes out for this token in this isolate until `untilMs`. The 429 is the
   * newest word on the window, so it replaces what was known (a fresh window starts after it).
   */
  block(key: string, untilMs: number): void {
    const b = this.#buckets.get(key);
    const until = Math.max(untilMs, b?.blockedUntilMs ?? 0);
    this.#buckets.set(key, { limit: b?.limit ?? null, remaining: 0, resetAtMs: until, blockedUntilMs: until });
  }
}

function reserveOf(limit: number | null): number {
  return limit === null ? 0 : Math.floor(limit * RESERVE_FRACTION);
}

/**
 * A stable, non-reversible fingerprint of (API host, token) for keying the pace: the limit belongs to
 * the token, and the same token string on another regional host would be another workspace.
 * FNV-1a (two 32-bit lanes); a collision would only make two tokens share a pace.
 */
export function paceKey(apiBase: string, token: string): string {
  const input = `${apiBase}\n${token}`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ input.length;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return `${a.toString(16).padStart(8, "0")}${b.toString(16).padStart(8, "0")}`;
}

/** The pacer every Intercom destination in this isolate shares (module scope outlives each actor's requests). */
export const sharedPacer = new TokenPacer();

/**
 * A fixed pace per key: at most one request per `intervalMs`, and nothing before a 429's end. Slack
 * paces `chat.postMessage` at about one message per second per channel (and its 429s carry
 * `Retry-After`), but reports no remaining count, so the pace is counted here, not learned. It lives
 * in module scope like {@link TokenPacer}, for the same reason: every session actor of the isolate
 * writing to one channel shares it, with no coordination hop per message. Sessions in other isolates
 * can overshoot it together; Slack answers 429 with `Retry-After`, which blocks the key here and is
 * honoured by the step (a rate-limited retry never counts toward parking).
 */
export class IntervalPacer {
  readonly #next = new Map<string, number>();

  /** Go now (and take the slot), or wait until the key's next slot. */
  acquire(key: string, now: number, intervalMs: number): PaceDecision {
    const at = this.#next.get(key) ?? 0;
    if (at > now) return { kind: "wait", untilMs: at };
    if (this.#next.size >= MAX_PACED_KEYS) this.#forgetBefore(now);
    this.#next.set(key, now + intervalMs);
    return { kind: "go" };
  }

  /** After a 429: nothing more for this key before `untilMs`. */
  block(key: string, untilMs: number): void {
    this.#next.set(key, Math.max(untilMs, this.#next.get(key) ?? 0));
  }

  /** Keys whose slot has passed hold nothing: an isolate writing to many channels stays bounded. */
  #forgetBefore(now: number): void {
    for (const [key, at] of this.#next) if (at <= now) this.#next.delete(key);
  }
}

/** Keys an {@link IntervalPacer} keeps before it forgets the ones whose slot has passed. */
const MAX_PACED_KEYS = 1_000;

/** The per-channel pace every Slack destination in this isolate shares. */
export const sharedIntervalPacer = new IntervalPacer();
