/**
 * @module
 * What every step is given and what it hands back. A step reads what it needs, does its one I/O
 * call, and returns an outcome; `settle` commits it. Any await may be the last (eviction), so
 * every step is safe to run again from the top.
 */
import type { CoreConfig } from "../../config";
import type { Destination } from "../../destinations/types";
import type { CircuitBreaker } from "../../llm/breaker";
import type { Summariser } from "../../llm/types";
import type { LogFields } from "../../log";
import type { MemoryEntry } from "../../product/memory/types";
import type { IndexEntry } from "../../product/sessionIndex";
import { failed, type Result } from "../../result";
import type { Step } from "../plan";
import type { SessionStore } from "../sessionStore";
import type { SessionRow } from "../store/schema";

export interface StepDeps {
  store: SessionStore;
  config: CoreConfig;
  /**
   * The session's outbound destinations, as entries (JSON): one lane each, in this order. None:
   * the session's own rows are its only destination (the store; the context route reads them).
   */
  laneEntries: readonly string[];
  /** The destination of a lane's entry (JSON); throws when its settings are unusable (the step parks with that error). */
  destination: (entry: string) => Destination;
  /**
   * Writes the session's entry to its product's index (one RPC), as one result: done, or retry.
   * Absent: the session keeps no index entry (Node tests), and the plan never plans the step.
   */
  index?: (entry: IndexEntry) => Promise<Result>;
  /**
   * Sends one summary to the product's memory (one RPC), as one result. Absent: memory is off (or
   * there is no product), and the plan never plans the step.
   */
  memory?: (entry: MemoryEntry) => Promise<Result>;
  /** Summariser for the LLM lane. Its calls are timed out by the summariser itself. */
  summariser: Summariser;
  /**
   * The LLM circuit breaker, shared by the sessions of one isolate: the plan waits while it is
   * open, and the summarise step asks it before every call and tells it each outcome. Absent
   * means calls are never held.
   */
  breaker?: CircuitBreaker;
  now: () => number;
  random: () => number;
  log: (event: string, fields?: LogFields) => void;
}

/** What a step hands to `settle`. */
export interface StepOutcome {
  /** The step row the result is recorded under (a deliver answers under its note's key). */
  key: string;
  result: Result;
  /** On done, in settle's transaction: makes the work durable. Re-read first: a rerun may find it done. */
  onDone?: () => void;
  /** On retry or failed, in settle's transaction: counts the failure. */
  onFailure?: () => void;
  /** Logged instead of the stored error (an exception's message may quote stored text). */
  logError?: string;
}

/** One step: its outcome, or null when there is nothing left to do (another run did it). */
export type StepFn<S extends Step> = (deps: StepDeps, s: SessionRow, step: S) => Promise<StepOutcome | null>;

/** A thrown error as an outcome: it parks the step (bad settings, or a bug), and logs its type only. */
export function thrown(key: string, err: unknown): StepOutcome {
  return {
    key,
    result: failed(err instanceof Error ? err.message : String(err)),
    logError: `threw ${err instanceof Error ? err.name : typeof err}`,
  };
}
