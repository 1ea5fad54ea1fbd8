/**
 * @module
 * The session's scheduler, as a pure function of its stored state and the time.
 *
 * Two lanes share the session's single alarm:
 * - the destination lane (deliver → post summary → redact) is strictly ordered: while its first
 *   due step waits out a backoff, later destination steps wait too, so notes reach the
 *   destination in arrival order and summaries in window order;
 * - the LLM lane (summarise) runs independently, so a down destination never stops summaries
 *   being prepared and a down LLM never stops raw notes being delivered.
 */

export type Step =
  | { kind: "deliver"; key: string; noteId: number | null }
  | { kind: "summarise"; key: string; window: number }
  | { kind: "post-summary"; key: string; window: number }
  | { kind: "redact"; key: string; noteId: number }
  | { kind: "close-idle"; key: string }
  | { kind: "index"; key: string }
  | { kind: "expire"; key: string };

export type StepKind = Step["kind"];
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

export type Lane = "destination" | "llm" | "index";

/** The lane a step runs in: summarise in the LLM lane, index in its own, every other step in the destination lane. */
export function laneOf(kind: StepKind): Lane {
  return kind === "summarise" ? "llm" : kind === "index" ? "index" : "destination";
}

export type Plan = { kind: "run"; step: Step } | { kind: "wait"; until: number } | { kind: "idle" };

/** A step's stored retry state, as the plan sees it. */
export interface StepRetry {
  attempts: number;
  nextAttemptAt: number;
  parked: boolean;
}

export interface PlanInput {
  now: number;
  /**
   * The session delivers to an outbound destination. False for the store (its rows are the
   * context): nothing is delivered or posted, and the lane only redacts notes an earlier
   * destination of the product still holds.
   */
  outbound: boolean;
  debounceMs: number;
  debounceMaxMs: number;
  /** The destination can be written to (linked, or it needs no link). */
  canPost: boolean;
  /** Undelivered batches not yet covered by a posted summary: first and last arrival times, oldest window. */
  pending: { firstAt: number; lastAt: number; window: number } | null;
  /** A raw note prepared but not confirmed posted (resume it before anything else). */
  inflightRawNote: number | null;
  /** Flush requested at this time: everything pending up to it is due now. */
  flushAt: number | null;
  /** Oldest closed window with no summary yet. */
  nextToSummarise: number | null;
  /** Oldest summarised window whose summary note is not posted yet. */
  nextToPost: number | null;
  /** Oldest live note that posted summaries now cover. */
  nextToRedact: number | null;
  /** LLM calls are held until this time (circuit breaker open), if set. */
  llmBlockedUntil: number | null;
  /** Idle handling: when the open window (if it holds actions) should be closed, and when the session expires. */
  idleCloseAt: number | null;
  expireAt: number | null;
  /** When the session's entry in its product's index is due (`session/indexing.ts`); absent or null: not due. */
  indexDueAt?: number | null;
  steps: ReadonlyMap<string, StepRetry>;
}

/** A session that only ever received a link (no action) is erased this long after it was created. */
export const LINK_ONLY_RETENTION_MS = 24 * 60 * 60_000;

/**
 * When a session expires: `retentionMs` after its last action; one that never had an action (a
 * link call for a session whose events never came) within a day, so link calls cannot pile up
 * sessions, and never later than the retention.
 */
export function expiresAt(s: { createdAt: number; lastActionAt: number; actionsAccepted: number }, retentionMs: number): number {
  if (s.actionsAccepted > 0) return s.lastActionAt + retentionMs;
  return s.createdAt + Math.min(LINK_ONLY_RETENTION_MS, retentionMs);
}

/** When batches pending delivery become due: trailing debounce, capped by the max wait. */
export function deliverDueAt(input: Pick<PlanInput, "pending" | "debounceMs" | "debounceMaxMs" | "flushAt">): number | null {
  const { pending, debounceMs, debounceMaxMs, flushAt } = input;
  if (!pending) return null;
  if (flushAt !== null && flushAt >= pending.firstAt) return pending.firstAt;
  return Math.min(pending.lastAt + debounceMs, pending.firstAt + debounceMaxMs);
}

function gate(step: Step, dueAt: number, steps: ReadonlyMap<string, StepRetry>): { step: Step; at: number } {
  const row = steps.get(step.key);
  return { step, at: row ? Math.max(dueAt, row.nextAttemptAt) : dueAt };
}

function destinationLane(input: PlanInput): { step: Step; at: number } | null {
  const { now, steps } = input;
  if (!input.outbound) {
    const id = input.nextToRedact;
    return id === null ? null : gate({ kind: "redact", key: `redact:${id}`, noteId: id }, now, steps);
  }
  if (!input.canPost) return null;
  if (input.inflightRawNote !== null) {
    return gate({ kind: "deliver", key: `deliver:${input.inflightRawNote}`, noteId: input.inflightRawNote }, now, steps);
  }
  const due = deliverDueAt(input);
  const candidates: { step: Step; at: number }[] = [];
  if (due !== null) candidates.push(gate({ kind: "deliver", key: "deliver:new", noteId: null }, due, steps));
  // A summary goes out after the raw notes of the actions it covers, as the SDK writes them.
  const waitsForRaw = input.pending !== null && input.nextToPost !== null && input.pending.window <= input.nextToPost;
  if (input.nextToPost !== null && !waitsForRaw) {
    const w = input.nextToPost;
    candidates.push(gate({ kind: "post-summary", key: `post:${w}`, window: w }, now, steps));
  }
  if (input.nextToRedact !== null) {
    const id = input.nextToRedact;
    candidates.push(gate({ kind: "redact", key: `redact:${id}`, noteId: id }, now, steps));
  }
  // A step waiting out its backoff blocks the lane (order matters at the destination); a
  // deliver that only waits for its debounce does not hold back redactions, nor summaries of
  // earlier windows.
  const [first, next] = candidates;
  if (!first) return null;
  const onlyDebouncing = first.step.kind === "deliver" && !steps.has(first.step.key);
  return onlyDebouncing && next && next.at < first.at ? next : first;
}

function llmLane(input: PlanInput): { step: Step; at: number } | null {
  if (input.nextToSummarise === null) return null;
  const w = input.nextToSummarise;
  const at = Math.max(input.now, input.llmBlockedUntil ?? 0);
  return gate({ kind: "summarise", key: `summarise:${w}`, window: w }, at, input.steps);
}

/** The index lane: one step, gated by its own backoff only, so it never waits for the others nor they for it. */
function indexLane(input: PlanInput): { step: Step; at: number } | null {
  if (input.indexDueAt === undefined || input.indexDueAt === null) return null;
  return gate({ kind: "index", key: "index" }, Math.max(input.now, input.indexDueAt), input.steps);
}

/**
 * Picks the next step. Cases, in priority order:
 * - the session expired (retention): erase it;
 * - a due destination step (resume an in-flight raw note, deliver, post a summary, redact);
 * - a due summarise step;
 * - a due index step;
 * - the open window went idle: close it so it gets summarised;
 * - otherwise wait for the earliest deadline, or rest when there is none.
 */
export function planNextStep(input: PlanInput): Plan {
  const { now } = input;
  if (input.expireAt !== null && input.expireAt <= now) return { kind: "run", step: { kind: "expire", key: "expire" } };
  const lanes = [destinationLane(input), llmLane(input), indexLane(input)].filter((l): l is { step: Step; at: number } => l !== null);
  const due = lanes.find((l) => l.at <= now);
  if (due) return { kind: "run", step: due.step };
  if (input.idleCloseAt !== null && input.idleCloseAt <= now) {
    return { kind: "run", step: { kind: "close-idle", key: "close-idle" } };
  }
  const deadlines = [...lanes.map((l) => l.at), input.idleCloseAt, input.expireAt].filter(
    (t): t is number => t !== null,
  );
  return deadlines.length ? { kind: "wait", until: Math.min(...deadlines) } : { kind: "idle" };
}

/** The alarm time the plan asks for: now for a due step, the deadline for a wait, none at rest. */
export function computeNextAlarm(input: PlanInput): number | null {
  const plan = planNextStep(input);
  if (plan.kind === "run") return input.now;
  return plan.kind === "wait" ? plan.until : null;
}
