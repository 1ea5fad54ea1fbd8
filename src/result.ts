/**
 * @module
 * The one result type of every outgoing call and every step: destinations, the LLM, the embedder
 * to come, and the step engine itself all answer with it.
 *
 * - `done`: it happened (with whatever the call returns, e.g. a part id or a summary text);
 * - `retry`: it did not happen, or may not have, and trying again later can fix it;
 * - `failed`: it can never succeed as asked (bad settings, a rejected request): the step parks;
 * - `held`: nothing was attempted because something outside the call holds it (the LLM circuit
 *   breaker, a rate pacer) until `until`; it never counts as an attempt.
 */

export type Done<T extends object = object> = { kind: "done" } & T;

export interface Retry {
  kind: "retry";
  /** Operator-facing: shown in the session state when the step parks. No secret, no action text. */
  error: string;
  /** Wait at least this long (Retry-After, X-RateLimit-Reset). */
  retryAfterMs?: number;
  /**
   * The other side is pacing us (429): wait `retryAfterMs`, but do not count the attempt toward
   * parking, since a busy workspace is not a broken one.
   */
  rateLimited?: boolean;
  /** The request may have landed (timeout, reset connection): reconcile before sending again. */
  unknownOutcome?: boolean;
}

export interface Failed {
  kind: "failed";
  /** Why it can never succeed, naming what to fix (a setting, the link). */
  error: string;
}

export interface Held {
  kind: "held";
  /** When to try again (ms since epoch). */
  until: number;
  /** What holds it, for the logs: "breaker", "pacer". */
  reason: string;
}

/** Anything that did not succeed. */
export type NotDone = Retry | Failed | Held;

export type Result<T extends object = object> = Done<T> | NotDone;

export const done = <T extends object = object>(value?: T): Done<T> => ({ kind: "done", ...(value as T) });

export const retry = (error: string, options: Omit<Retry, "kind" | "error"> = {}): Retry => ({ kind: "retry", error, ...options });

export const failed = (error: string): Failed => ({ kind: "failed", error });

export const held = (until: number, reason: string): Held => ({ kind: "held", until, reason });

export const isDone = <T extends object>(r: Result<T>): r is Done<T> => r.kind === "done";
