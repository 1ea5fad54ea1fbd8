/**
 * @module
 * Step 2, summarise: the oldest closed window without a summary goes to the LLM (through the
 * circuit breaker) as a prompt bounded by `SUMMARY_MAX_PROMPT_CHARS`; an answer that passes the
 * summary gate is stored, to be posted next. When the LLM refuses the request itself (400, 413,
 * 422), retrying can never help, so the window gets a clearly marked extractive summary instead.
 *
 * Catch-up: when the LLM fell behind and several closed windows wait, one call summarises as many
 * of them as fit the prompt cap whole (at most `MAX_WINDOWS_PER_CALL`); the summary is stored on
 * the newest and covers them all. So calls never exceed one per K actions, and a backlog drains in
 * a few calls instead of one per window.
 */
import type { CircuitBreaker, Ticket } from "../../llm/breaker";
import { extractiveSummary } from "../../llm/extractive";
import { SUMMARY_ORIGIN, type SummaryOrigin } from "../../llm/types";
import { done, held, retry } from "../../result";
import type { StepOf } from "../plan";
import { boundedPrompt, windowsThatFit } from "../prompt";
import { checkSummary } from "../summaryGate";
import type { Counter } from "../store/sessionRows";
import type { StepDeps, StepFn, StepOutcome } from "./stepDeps";

function logBreaker(deps: StepDeps, breaker: CircuitBreaker): void {
  const view = breaker.view();
  deps.log(`breaker:${view.state}`, { failures: view.failures, open_until: view.open_until });
}

/** Most closed windows one catch-up call summarises together. */
export const MAX_WINDOWS_PER_CALL = 20;

/** The windows `first`…`last` the summary covers. */
interface Span {
  first: number;
  last: number;
}

/** Stores a gated summary on the span's newest window in settle's transaction, unless a rerun already did. */
function storing(deps: StepDeps, step: StepOf<"summarise">, span: Span, summary: string, origin: SummaryOrigin, counters: readonly Counter[]): StepOutcome {
  const { store, config } = deps;
  return {
    key: step.key,
    result: done(),
    onDone: () => {
      // Summaries are stored in window order and each moves the session's coverage to its span's
      // newest, so a span whose first is still uncovered has none yet (a rerun finds it covered).
      if ((store.session()?.covered_window ?? Infinity) >= span.first) return;
      // Stored is in the session's own copy (the context reads it); each lane posts it in turn.
      store.storeSummary(span, summary, origin, deps.now(), counters);
      store.prune(config.mode === "rolling");
    },
  };
}

export const summarise: StepFn<StepOf<"summarise">> = async (deps, _s, step) => {
  const { store, config, summariser, breaker } = deps;
  const { windows: waiting, previousSummary } = store.summaryInput(step.window, MAX_WINDOWS_PER_CALL, config.mode === "rolling");
  if (waiting[0]?.id !== step.window) return null;
  let ticket: Ticket = { probe: null };
  if (breaker) {
    const admitted = breaker.tryAcquire(deps.now());
    // Refused: nothing was attempted; the lane waits until the breaker lets a probe through.
    if (!admitted) return { key: step.key, result: held(breaker.blockedUntil(deps.now()) ?? deps.now(), "breaker") };
    if (admitted.probe !== null) logBreaker(deps, breaker);
    ticket = admitted;
  }
  const promptInput = { template: config.prompt, formatter: config.formatter, previousSummary, mode: config.mode, maxChars: config.maxPromptChars };
  const covered = waiting.slice(0, windowsThatFit(waiting.map((w) => w.actions), promptInput));
  const span: Span = { first: step.window, last: covered.at(-1)?.id ?? step.window };
  const actions = covered.flatMap((w) => w.actions);
  const prompt = boundedPrompt({ ...promptInput, actions });
  // Counted with the step's outcome, in the write it makes anyway (a call cut off by an eviction goes uncounted).
  const called: Counter[] = summariser.extractive ? [] : ["llm_calls"];
  const answer = await summariser.summarise({ prompt, actions, previousSummary });
  if (breaker) {
    // A 4xx or an unusable text is still an answer: only "try again later" failures count.
    const before = breaker.state.kind;
    breaker.record(ticket, answer.kind === "retry" ? "failure" : "success", deps.now());
    if (breaker.state.kind !== before) logBreaker(deps, breaker);
  }
  if (answer.kind === "failed" && answer.requestRejected) {
    // Summary first still holds: this summary is posted before anything it covers is redacted.
    deps.log("summary:fallback", { window: span.last, error: answer.error, prompt_chars: prompt.length });
    const text = extractiveSummary({ prompt, actions, previousSummary }, answer.error);
    return storing(deps, step, span, text, SUMMARY_ORIGIN.fallback, [...called, "llm_failures"]);
  }
  if (answer.kind !== "done") {
    return { key: step.key, result: answer, onFailure: summariser.extractive ? undefined : () => store.bump(...called, "llm_failures") };
  }
  const verdict = checkSummary(answer.text);
  if (!verdict.ok) {
    return { key: step.key, result: retry(`summary rejected: ${verdict.reason}`), onFailure: () => store.bump(...called, "summaries_rejected") };
  }
  return storing(deps, step, span, verdict.summary, summariser.extractive ? SUMMARY_ORIGIN.extractive : SUMMARY_ORIGIN.llm, called);
};
