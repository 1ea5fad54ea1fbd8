/**
 * @module
 * The one place a step's result becomes durable. Every commit first checks that the session is
 * still the one the step started with (it may have been erased while the step was out).
 */
import { nextAttempt } from "../backoff";
import { laneOf, type Step } from "../plan";
import type { SessionRow } from "../store/schema";
import type { StepDeps, StepOutcome } from "./stepDeps";

/** Runs `fn` in one transaction if the session is still the one with this epoch; says whether it ran. */
export function commit(deps: StepDeps, epoch: string, fn: () => void): boolean {
  return deps.store.tx(() => {
    const s = deps.store.session();
    if (!s || s.epoch !== epoch) return false;
    fn();
    return true;
  });
}

/**
 * Cases, each logging one line:
 * - done: commit the step's writes and drop its row (`step:done`);
 * - held: not an attempt; the step waits until `until` with its attempts unchanged (`llm:held`
 *   or `destination:held`);
 * - retry or failed: count the attempt (a paced retry, 429, waits as told but does not count),
 *   back off from the attempt count or park, and keep the error (`step:retry` or `step:parked`).
 */
export function settle(deps: StepDeps, s: SessionRow, step: Pick<Step, "kind"> & { lane?: number }, outcome: StepOutcome, startedAt: number): void {
  const { store } = deps;
  const { kind } = step;
  const { key, result } = outcome;
  const now = deps.now();
  const row = store.step(key);
  const previous = row?.attempts ?? 0;
  if (result.kind === "held") {
    commit(deps, s.epoch, () =>
      store.recordStep(
        { key, kind, attempts: previous, nextAttemptAt: result.until, error: `held by ${result.reason}`, parked: false, unknownOutcome: false },
        now,
      ),
    );
    deps.log(`${laneOf(kind)}:held`, { kind, key, until: new Date(result.until).toISOString() });
    return;
  }
  const paced = result.kind === "retry" && result.rateLimited === true;
  const attempt = paced ? previous : previous + 1;
  const common = { kind, key, attempt, latency_ms: now - startedAt };
  if (result.kind === "done") {
    const committed = commit(deps, s.epoch, () => {
      outcome.onDone?.();
      if (row) store.clearStep(key);
    });
    deps.log("step:done", { ...common, outcome: "done", ...(committed ? {} : { discarded: true }) });
    return;
  }
  const retryAfterMs = result.kind === "retry" ? result.retryAfterMs : undefined;
  const { nextAttemptAt, parked } = nextAttempt({
    attempts: attempt,
    maxAttempts: deps.config.maxAttempts,
    permanent: result.kind === "failed",
    now,
    random: deps.random(),
    retryAfterMs,
    parkedSince: row?.parked_at ?? null,
  });
  const unknownOutcome = result.kind === "retry" && result.unknownOutcome === true;
  commit(deps, s.epoch, () => {
    outcome.onFailure?.();
    store.recordStep({ key, kind, attempts: attempt, nextAttemptAt, error: result.error, parked, unknownOutcome }, now);
    store.bump("step_failures");
    if (step.lane !== undefined) store.bumpLane(step.lane, "step_failures");
  });
  const event = parked ? "parked" : "retry";
  deps.log(`step:${event}`, { ...common, outcome: event, error: outcome.logError ?? result.error, retry_in_ms: nextAttemptAt - now });
}
