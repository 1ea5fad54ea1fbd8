/**
 * @module
 * Step 2, summarise: the oldest closed window without a summary goes to the LLM (through the
 * circuit breaker); an answer that passes the summary gate is stored, to be posted next.
 */
import type { CircuitBreaker, Ticket } from "../../llm/breaker";
import { done, held, retry } from "../../result";
import { formatActions } from "../format";
import type { StepOf } from "../plan";
import { buildPrompt } from "../prompt";
import { checkSummary } from "../summaryGate";
import type { StepDeps, StepFn } from "./stepDeps";

function logBreaker(deps: StepDeps, breaker: CircuitBreaker): void {
  const view = breaker.view();
  deps.log(`breaker:${view.state}`, { failures: view.failures, open_until: view.open_until });
}

export const summarise: StepFn<StepOf<"summarise">> = async (deps, _s, step) => {
  const { store, config, summariser, breaker } = deps;
  const window = store.window(step.window);
  if (!window || window.summary !== null) return null;
  let ticket: Ticket = { probe: null };
  if (breaker) {
    const admitted = breaker.tryAcquire(deps.now());
    // Refused: nothing was attempted; the lane waits until the breaker lets a probe through.
    if (!admitted) return { key: step.key, result: held(breaker.blockedUntil(deps.now()) ?? deps.now(), "breaker") };
    if (admitted.probe !== null) logBreaker(deps, breaker);
    ticket = admitted;
  }
  const actions = store.windowActions(step.window);
  const previousSummary = config.mode === "rolling" ? store.previousSummary(step.window) : null;
  const prompt = buildPrompt({
    template: config.prompt,
    actionsText: formatActions(config.formatter, actions),
    previousSummary,
    mode: config.mode,
  });
  if (!summariser.extractive) store.bump("llm_calls");
  const answer = await summariser.summarise({ prompt, actions, previousSummary });
  if (breaker) {
    // A 4xx or an unusable text is still an answer: only "try again later" failures count.
    const before = breaker.state.kind;
    breaker.record(ticket, answer.kind === "retry" ? "failure" : "success", deps.now());
    if (breaker.state.kind !== before) logBreaker(deps, breaker);
  }
  if (answer.kind !== "done") {
    return { key: step.key, result: answer, onFailure: summariser.extractive ? undefined : () => store.bump("llm_failures") };
  }
  const verdict = checkSummary(answer.text);
  if (!verdict.ok) {
    return { key: step.key, result: retry(`summary rejected: ${verdict.reason}`), onFailure: () => store.bump("summaries_rejected") };
  }
  return {
    key: step.key,
    result: done(),
    onDone: () => {
      const current = store.window(step.window);
      if (!current || current.summary !== null) return;
      store.storeSummary(step.window, verdict.summary, summariser.extractive, deps.now());
      store.bump("summaries");
      store.prune(config.mode === "rolling");
    },
  };
};
