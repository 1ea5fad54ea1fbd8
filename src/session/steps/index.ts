/**
 * @module
 * Runs one planned step: the step's own file does its reads and its one I/O call, and `settle`
 * commits the outcome. A new kind of step is a new file and one entry in `STEPS`.
 */
import { done } from "../../result";
import type { Step, StepOf } from "../plan";
import type { SessionRow } from "../store/schema";
import { deliver } from "./deliver";
import { indexSession } from "./indexSession";
import { memorise } from "./memorise";
import { postSummary } from "./postSummary";
import { redact } from "./redact";
import { settle } from "./settle";
import { thrown, type StepDeps, type StepFn } from "./stepDeps";
import { summarise } from "./summarise";

export type { StepDeps } from "./stepDeps";

/** Steps `runStep` performs; `expire` erases the whole session, which the actor does. */
export type RunnableStep = Exclude<Step, { kind: "expire" }>;
type RunnableKind = RunnableStep["kind"];

/** Close-idle: the open window went quiet below K; closing it lets it be summarised. */
const closeIdle: StepFn<StepOf<"close-idle">> = async (deps, _s, step) => ({
  key: step.key,
  result: done(),
  onDone: () => void deps.store.closeOpenWindow(),
});

const STEPS: { [K in RunnableKind]: StepFn<StepOf<K>> } = {
  deliver,
  summarise,
  "post-summary": postSummary,
  redact,
  "close-idle": closeIdle,
  index: indexSession,
  memory: memorise,
};

/** Runs one step and settles its outcome. A throw (a destination factory's bad settings, a bug) parks the step. */
export async function runStep(deps: StepDeps, s: SessionRow, step: RunnableStep): Promise<void> {
  const startedAt = deps.now();
  let key = step.key;
  try {
    // The table pairs each kind with its own step type; TypeScript cannot follow that through the union.
    const outcome = await (STEPS[step.kind] as StepFn<RunnableStep>)(deps, s, step);
    if (!outcome) return;
    key = outcome.key;
    settle(deps, s, step, outcome, startedAt);
  } catch (err) {
    settle(deps, s, step, thrown(key, err), startedAt);
  }
}
