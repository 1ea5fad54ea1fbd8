/**
 * @module
 * One run of a session's lanes: every runner (each destination lane, the LLM lane, the index lane,
 * the idle close) runs its due steps in order, and the runners run at once, so a destination that
 * takes 20 s to answer holds back only its own lane. A step that lands starts the runners it made
 * work for (a summary to post, a window to summarise); a running one plans again after its own
 * step anyway. The index step waits for the rest to be done, so the entry it writes shows the
 * session settled, unless the index cannot find the session by its user yet. Free of storage: the core hands in its plan and its step runner.
 */
import { userUnindexed } from "./indexing";
import { planRunner, runnersOf, type PlanInput, type Runner, type Step } from "./plan";
import type { RunnableStep } from "./steps";
import type { SessionRow } from "./store/schema";

export interface Planned {
  session: SessionRow;
  input: PlanInput;
}

export interface RunnersRun {
  /** The plan the run starts from. */
  first: Planned;
  /** Plans again from storage (null: the session is gone). */
  plan: () => Planned | null;
  run: (session: SessionRow, step: RunnableStep) => Promise<void>;
  /** Most steps this run takes, over all runners. */
  maxSteps: number;
  /** Given, while the run lasts, what starts its resting runners that have work now (a request made some due); null at its end. */
  onWake: (wake: (() => void) | null) => void;
}

const runnable = (step: Step): step is RunnableStep => step.kind !== "expire";

/** Runs the runners until none has a due step or `maxSteps` were taken; returns the steps taken. */
export async function runRunners({ first, plan, run, maxSteps, onWake }: RunnersRun): Promise<number> {
  let steps = 0;
  const running = new Map<Runner, Promise<void>>();
  /** Plans once for every runner: starts those with a due step that are not running, and hands the plan on. */
  const startDue = (planned: Planned | null): Planned | null => {
    if (!planned) return null;
    const due = runnersOf(planned.input).filter((r) => planRunner(planned.input, r).kind === "run");
    for (const runner of due) {
      if (running.has(runner)) continue;
      // The index entry describes the session at rest: it is written once the other due work is
      // done, except while the index cannot find the session by its user (`userUnindexed`). The
      // memory lane is not waited for: a slow embedder would hold the entry back for nothing.
      const busy = (r: Runner) => r !== "index" && r !== "memory";
      if (runner === "index" && !userUnindexed(planned.session) && ([...running.keys()].some(busy) || due.some(busy))) continue;
      // Starts in a microtask, once it is in `running`. Its last plan and its removal from
      // `running` happen with no await between them, so a runner is either running (and will
      // plan again) or startable here.
      const loop = Promise.resolve().then(async () => {
        let current: Planned | null = planned;
        try {
          while (current && steps < maxSteps) {
            const next = planRunner(current.input, runner);
            if (next.kind !== "run" || !runnable(next.step)) return;
            await run(current.session, next.step);
            steps += 1;
            current = startDue(plan());
          }
        } finally {
          running.delete(runner);
          if (running.size === 0 && steps < maxSteps) startDue(plan());
        }
      });
      running.set(runner, loop);
    }
    return planned;
  };
  onWake(() => void startDue(plan()));
  try {
    startDue(first);
    while (running.size > 0) await Promise.all([...running.values()]);
  } finally {
    onWake(null);
  }
  return steps;
}
