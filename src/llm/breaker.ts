/**
 * @module
 * A circuit breaker around the LLM, shared by every session one isolate runs.
 *
 * - closed: calls go through; `failureThreshold` consecutive failures (timeouts, connection
 *   errors, 429, 5xx: the summariser's "retry" answers) open it.
 * - open: no call goes through until `pauseMs` has passed; summarise steps wait and raw context
 *   stays in place.
 * - half-open: the first caller after the pause gets one probe; everyone else waits. Success
 *   closes the breaker, failure opens it for another pause. A probe that never reports (its actor
 *   was evicted mid-call) holds the lease only `probeLeaseMs`, then the next caller probes.
 *
 * The transitions are pure functions of (state, event, now); `CircuitBreaker` holds one state and
 * `sharedBreaker()` is the per-isolate instance.
 */
import type { LlmConfig } from "../config";

export interface BreakerSettings {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long an open breaker refuses calls before it lets one probe through. */
  pauseMs: number;
  /** How long one probe may be outstanding before another caller may probe instead. */
  probeLeaseMs: number;
}

export type BreakerState =
  | { kind: "closed"; failures: number }
  | { kind: "open"; failures: number; until: number; lastProbe: number }
  | { kind: "half-open"; failures: number; probe: number; leaseUntil: number };

/** What an admitted caller holds; hand it back with the outcome. `probe` is the probe's number, if it is one. */
export type Ticket = { probe: number | null };

/** An answer from the LLM (success), or a sign that it is unavailable (failure). */
export type LlmOutcome = "success" | "failure";

/** The resting state: calls go through, no failure counted. */
export const CLOSED: BreakerState = { kind: "closed", failures: 0 };

/**
 * Asks to make a call now. Cases:
 * - closed: admitted;
 * - open, pause not over: refused;
 * - open, pause over, or half-open with an expired lease: admitted as the (new) probe;
 * - half-open with a live probe: refused.
 */
export function admit(
  state: BreakerState,
  now: number,
  settings: BreakerSettings,
): { ticket: Ticket | null; state: BreakerState } {
  if (state.kind === "closed") return { ticket: { probe: null }, state };
  const probeDue = state.kind === "open" ? now >= state.until : now >= state.leaseUntil;
  if (!probeDue) return { ticket: null, state };
  // Probe numbers only grow while the breaker is not closed, so a stale probe's answer is never mistaken for the current one's.
  const probe = (state.kind === "half-open" ? state.probe : state.lastProbe) + 1;
  return {
    ticket: { probe },
    state: { kind: "half-open", failures: state.failures, probe, leaseUntil: now + settings.probeLeaseMs },
  };
}

/**
 * Records a call's outcome. Any success closes the breaker (the LLM answered). A failure counts
 * while closed and opens it at the threshold; in half-open only the current probe's failure
 * re-opens it (a late failure of a call admitted before the breaker opened changes nothing).
 */
export function record(
  state: BreakerState,
  ticket: Ticket,
  outcome: LlmOutcome,
  now: number,
  settings: BreakerSettings,
): BreakerState {
  if (outcome === "success") return CLOSED;
  const failures = state.failures + 1;
  if (state.kind === "closed") {
    return failures >= settings.failureThreshold
      ? { kind: "open", failures, until: now + settings.pauseMs, lastProbe: 0 }
      : { kind: "closed", failures };
  }
  if (state.kind === "half-open" && ticket.probe === state.probe) {
    return { kind: "open", failures, until: now + settings.pauseMs, lastProbe: state.probe };
  }
  return { ...state, failures };
}

/** Until when a caller would be refused now; null when a call (or the probe) would be admitted. */
export function blockedUntil(state: BreakerState, now: number): number | null {
  if (state.kind === "closed") return null;
  const until = state.kind === "open" ? state.until : state.leaseUntil;
  return now < until ? until : null;
}

/** The breaker as the state endpoint and `/healthz` show it. */
export interface BreakerView {
  state: BreakerState["kind"];
  failures: number;
  /** While open: when the probe may go; while half-open: when the probe's lease ends. */
  open_until: string | null;
}

/** The view of a state, with `open_until` as ISO time. */
export function viewOf(state: BreakerState): BreakerView {
  const until = state.kind === "open" ? state.until : state.kind === "half-open" ? state.leaseUntil : null;
  return { state: state.kind, failures: state.failures, open_until: until === null ? null : new Date(until).toISOString() };
}

/** One breaker's state with its settings: the small mutable shell around the pure transitions. */
export class CircuitBreaker {
  private current: BreakerState = CLOSED;

  constructor(private settings: BreakerSettings) {}

  /** Settings come from the environment, which is the same for every actor of one isolate. */
  configure(settings: BreakerSettings): void {
    this.settings = settings;
  }

  /** The current state (for logs and tests; transitions go through `tryAcquire` and `record`). */
  get state(): BreakerState {
    return this.current;
  }

  /** A ticket when the call may go now (record its outcome), null when it must wait. */
  tryAcquire(now: number): Ticket | null {
    const { ticket, state } = admit(this.current, now, this.settings);
    this.current = state;
    return ticket;
  }

  /** Records an admitted call's outcome; returns the new state. */
  record(ticket: Ticket, outcome: LlmOutcome, now: number): BreakerState {
    this.current = record(this.current, ticket, outcome, now, this.settings);
    return this.current;
  }

  /** Until when calls are refused (null: a call would be admitted now). The plan waits for it. */
  blockedUntil(now: number): number | null {
    return blockedUntil(this.current, now);
  }

  /** What the state endpoint and `/healthz` show. */
  view(): BreakerView {
    return viewOf(this.current);
  }

  /** Back to closed. For tests and for an operator who knows the LLM is back. */
  reset(): void {
    this.current = CLOSED;
  }
}

let shared: CircuitBreaker | null = null;

/**
 * The isolate's breaker: module scope, so every session actor the isolate runs shares it (one
 * failing LLM is noticed once, not once per session). Created on first use with these settings.
 */
export function sharedBreaker(settings: BreakerSettings): CircuitBreaker {
  if (shared) shared.configure(settings);
  else shared = new CircuitBreaker(settings);
  return shared;
}

/** The isolate's breaker with the settings of this LLM configuration. */
export function llmBreaker(llm: LlmConfig): CircuitBreaker {
  return sharedBreaker({ failureThreshold: llm.breakerFailures, pauseMs: llm.breakerPauseMs, probeLeaseMs: probeLeaseMs(llm.timeoutMs) });
}

/** The probe lease for an LLM timeout: the probe reports within the timeout, plus a margin. */
export function probeLeaseMs(llmTimeoutMs: number): number {
  return llmTimeoutMs + Math.min(llmTimeoutMs, 1_000);
}
