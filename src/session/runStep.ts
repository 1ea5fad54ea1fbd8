/**
 * @module
 * Performs one planned step: read what it needs from storage, do the one I/O call, then commit
 * the result in one transaction after re-reading that the work is still wanted. Any await may be
 * the last (eviction), so every step is safe to run again from the top.
 */
import type { Config } from "../config";
import type { Destination, FindResult, OutgoingNote, PostResult, SessionRef } from "../destinations/types";
import type { CircuitBreaker } from "../llm/breaker";
import type { Summariser } from "../llm/types";
import type { LogFields } from "../log";
import type { Result } from "../result";
import { nextAttempt } from "./backoff";
import { formatActions } from "./format";
import { mergePayloads, payloadToText, type ActionsPayload, type SlimAction } from "./model";
import type { Step } from "./plan";
import { buildPrompt } from "./prompt";
import type { SessionStore } from "./sessionStore";
import type { NoteRow, SessionRow } from "./store/schema";
import { checkSummary } from "./summaryGate";

/** Most actions one raw note carries; a longer backlog goes out as several notes, in order. */
export const MAX_NOTE_ACTIONS = 200;

export interface StepDeps {
  store: SessionStore;
  config: Config;
  /** The configured destination; throws when its settings are unusable (the step parks with that error). */
  destination: () => Destination;
  /** Summariser for the LLM lane. Its calls are timed out by the summariser itself. */
  summariser: Summariser;
  /**
   * The LLM circuit breaker, shared by the sessions of one isolate. Consulted before every call of
   * a non-extractive summariser and told each outcome; absent means calls are never held.
   */
  breaker?: CircuitBreaker;
  now: () => number;
  random: () => number;
  log: (event: string, fields?: LogFields) => void;
}

type Outcome = Result;

/** What every step logs: when it started (for latency) and, for thrown errors, a log-safe error. */
interface StepRun {
  startedAt: number;
  /** Logged instead of the stored error (an exception's message may quote stored text). */
  logError?: string;
}

export function noteKey(epoch: string, noteId: number): string {
  return `${epoch}-n${noteId}`;
}

function sessionRef(s: SessionRow, link: string | null): SessionRef {
  return { productId: s.product_id, sessionId: s.session_id, link };
}

function rawText(s: SessionRow, actions: SlimAction[]): string {
  const payload: ActionsPayload = {
    product_id: s.product_id,
    session_id: s.session_id,
    user_id: s.user_id,
    email: s.email,
    conversation_id: s.link,
    forwarded_at: 0,
    actions,
  };
  return payloadToText(mergePayloads([payload]));
}

function outgoing(deps: StepDeps, s: SessionRow, note: NoteRow, extractive: boolean): OutgoingNote {
  const actions = note.kind === "raw" ? deps.store.noteActions(note.id) : [];
  return {
    key: noteKey(s.epoch, note.id),
    kind: note.kind,
    text: note.body,
    actions,
    summary: note.kind === "summary" ? note.body : null,
    window: note.window_id,
    extractive,
    createdAt: note.created_at,
  };
}

/** Commits only if the session is still the one the step started with (not erased meanwhile). */
function commit(deps: StepDeps, epoch: string, fn: (s: SessionRow) => void): boolean {
  return deps.store.tx(() => {
    const s = deps.store.session();
    if (!s || s.epoch !== epoch) return false;
    fn(s);
    return true;
  });
}

/**
 * Posts a prepared note. A note prepared by an earlier run whose outcome is unknown (a timeout,
 * or the actor stopped mid-post and recorded nothing) is looked up first where the destination
 * can, and re-posted only if absent.
 */
async function postNote(
  deps: StepDeps,
  s: SessionRow,
  note: NoteRow,
  key: string,
  extractive: boolean,
  preparedNow: boolean,
): Promise<PostResult> {
  const destination = deps.destination();
  const out = outgoing(deps, s, note, extractive);
  const ref = sessionRef(s, note.link);
  const record = deps.store.step(key);
  const outcomeUnknown = !preparedNow && (record === null || record.unknown_outcome === 1);
  if (outcomeUnknown && destination.find) {
    const found: FindResult = await destination.find(ref, out);
    if (found.kind !== "done") return found;
    if (found.partId !== null) return { kind: "done", partId: found.partId };
  }
  return destination.post(ref, out);
}

async function deliver(deps: StepDeps, s: SessionRow, step: Extract<Step, { kind: "deliver" }>, run: StepRun): Promise<void> {
  const { store } = deps;
  deps.destination(); // unusable settings fail here, before a note is prepared
  let note = step.noteId === null ? null : store.note(step.noteId);
  const preparedNow = note === null;
  if (!note) {
    const batches = store.pendingBatches(s.covered_window, MAX_NOTE_ACTIONS);
    if (batches.length === 0) return;
    const actions = batches.flatMap((b) => JSON.parse(b.actions) as SlimAction[]);
    const id = store.tx(() => store.createRawNote(batches, rawText(s, actions), s.link, deps.now()));
    note = store.note(id)!;
  }
  const key = `deliver:${note.id}`;
  const result = await postNote(deps, s, note, key, false, preparedNow);
  const id = note.id;
  await settle(deps, s, key, "deliver", result, run, () => {
    const current = store.note(id);
    if (!current || current.posted_at !== null || result.kind !== "done") return;
    store.markNotePosted(id, result.partId, deps.now());
    store.bump("raw_notes_posted");
    store.prune(deps.config.mode === "rolling");
  });
}

async function summarise(deps: StepDeps, s: SessionRow, step: Extract<Step, { kind: "summarise" }>, run: StepRun): Promise<void> {
  const { store, config, summariser } = deps;
  const window = store.window(step.window);
  if (!window || window.summary !== null) return;
  // The extractive summariser has no network to fail, so it never consults or trips the breaker.
  const breaker = summariser.extractive ? undefined : deps.breaker;
  const ticket = breaker ? breaker.tryAcquire(deps.now()) : { probe: null };
  if (!ticket) {
    // Held, not failed: the plan now sees the breaker open and waits for its pause to end.
    deps.log("llm:held", { kind: step.kind, key: step.key, until: breaker?.view().open_until ?? null });
    return;
  }
  if (breaker && ticket.probe !== null) logBreaker(deps, breaker);
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
  let result: Outcome = answer.kind === "done" ? { kind: "done" } : answer;
  let summary = "";
  if (answer.kind === "done") {
    const verdict = checkSummary(answer.text);
    if (verdict.ok) summary = verdict.summary;
    else result = { kind: "retry", error: `summary rejected: ${verdict.reason}` };
  }
  if (result.kind !== "done") {
    commit(deps, s.epoch, () => {
      if (answer.kind === "done") store.bump("summaries_rejected");
      else if (!summariser.extractive) store.bump("llm_failures");
    });
  }
  await settle(deps, s, step.key, "summarise", result, run, () => {
    const current = store.window(step.window);
    if (!current || current.summary !== null) return;
    store.storeSummary(step.window, summary, summariser.extractive, deps.now());
    store.bump("summaries");
    store.prune(config.mode === "rolling");
  });
}

async function postSummary(deps: StepDeps, s: SessionRow, step: Extract<Step, { kind: "post-summary" }>, run: StepRun): Promise<void> {
  const { store } = deps;
  const window = store.window(step.window);
  if (!window || window.summary === null || window.posted_at !== null) return;
  deps.destination();
  let note = store.summaryNote(step.window);
  const preparedNow = note === null;
  if (!note) {
    const id = store.tx(() => store.createSummaryNote(step.window, window.summary!, s.link, deps.now()));
    note = store.note(id)!;
  }
  const result = await postNote(deps, s, note, step.key, window.extractive === 1, preparedNow);
  const id = note.id;
  await settle(deps, s, step.key, "post-summary", result, run, () => {
    const current = store.note(id);
    if (!current || current.posted_at !== null || result.kind !== "done") return;
    store.markSummaryPosted(id, step.window, result.partId, deps.now());
    store.bump("summary_notes_posted");
    store.prune(deps.config.mode === "rolling");
  });
}

async function redact(deps: StepDeps, s: SessionRow, step: Extract<Step, { kind: "redact" }>, run: StepRun): Promise<void> {
  const { store, config } = deps;
  // Re-read before acting: only a note that posted summaries still cover may go.
  const note = store.note(step.noteId);
  if (!note || note.posted_at === null || note.part_id === null) return;
  const covered = note.kind === "raw" ? note.window_id <= s.covered_window : config.mode === "rolling" && note.window_id < s.covered_window;
  if (!covered) return;
  const destination = deps.destination();
  const result = await destination.redact(sessionRef(s, note.link), {
    key: noteKey(s.epoch, note.id),
    kind: note.kind,
    partId: note.part_id,
    link: note.link,
  });
  await settle(deps, s, step.key, "redact", result, run, () => {
    if (!store.note(step.noteId)) return;
    store.deleteNote(step.noteId);
    store.bump("redactions");
    store.prune(config.mode === "rolling");
  });
}

function logBreaker(deps: StepDeps, breaker: CircuitBreaker): void {
  const view = breaker.view();
  deps.log(`breaker:${view.state}`, { failures: view.failures, open_until: view.open_until });
}

/**
 * Commits a success, or records the failure with its backoff (parking permanent errors), and logs
 * one line either way: `step:done|retry|parked` with kind, key, outcome, attempt and latency.
 */
async function settle(
  deps: StepDeps,
  s: SessionRow,
  key: string,
  kind: string,
  result: Outcome,
  run: StepRun,
  onDone: () => void,
): Promise<void> {
  const { store } = deps;
  const now = deps.now();
  const previous = store.step(key)?.attempts ?? 0;
  // Being paced (429) or held is not failing: it waits as told but does not move toward parking.
  const paced = result.kind === "held" || (result.kind === "retry" && result.rateLimited === true);
  const attempt = paced ? previous : previous + 1;
  const common = { kind, key, attempt, latency_ms: now - run.startedAt };
  if (result.kind === "done") {
    const committed = commit(deps, s.epoch, () => {
      onDone();
      store.clearStep(key);
    });
    // Not committed: the session was erased (or replaced) while the step was out.
    deps.log("step:done", { ...common, outcome: "done", ...(committed ? {} : { discarded: true }) });
    return;
  }
  const retryAfterMs = result.kind === "retry" ? result.retryAfterMs : result.kind === "held" ? Math.max(0, result.until - now) : undefined;
  const { nextAttemptAt, parked } = nextAttempt(
    attempt,
    deps.config.maxAttempts,
    result.kind === "failed",
    now,
    deps.random(),
    retryAfterMs,
  );
  const unknownOutcome = result.kind === "retry" && result.unknownOutcome === true;
  const error = result.kind === "held" ? `held by ${result.reason}` : result.error;
  commit(deps, s.epoch, () => {
    store.recordStep({ key, kind, attempts: attempt, nextAttemptAt, error, parked, unknownOutcome }, now);
    store.bump("step_failures");
  });
  const outcome = parked ? "parked" : "retry";
  deps.log(`step:${outcome}`, { ...common, outcome, error: run.logError ?? error, retry_in_ms: nextAttemptAt - now });
}

/** Runs one step. Errors thrown by a destination factory (bad settings) park the step. */
export async function runStep(deps: StepDeps, s: SessionRow, step: Step): Promise<void> {
  const run: StepRun = { startedAt: deps.now() };
  try {
    switch (step.kind) {
      case "deliver":
        return await deliver(deps, s, step, run);
      case "summarise":
        return await summarise(deps, s, step, run);
      case "post-summary":
        return await postSummary(deps, s, step, run);
      case "redact":
        return await redact(deps, s, step, run);
      case "close-idle":
        if (commit(deps, s.epoch, () => deps.store.closeOpenWindow(deps.now()))) {
          deps.log("step:done", { kind: step.kind, key: step.key, outcome: "done", attempt: 1, latency_ms: deps.now() - run.startedAt });
        }
        return;
      case "expire":
        return;
    }
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    // A deliver that prepared its note before throwing is retried under that note's key.
    const inflight = step.kind === "deliver" && step.noteId === null ? deps.store.inflightRawNote() : null;
    const key = inflight ? `deliver:${inflight.id}` : step.key;
    const logError = `threw ${err instanceof Error ? err.name : typeof err}`;
    await settle(deps, s, key, step.kind, { kind: "failed", error }, { ...run, logError }, () => {});
  }
}
