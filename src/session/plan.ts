/**
 * @module
 * The session's scheduler, as a pure function of its stored state and the time.
 *
 * Lanes share the session's single alarm, and each runs on its own (`SessionCore.drain` runs them
 * concurrently, so a slow call in one never delays another):
 * - one destination lane per outbound destination (deliver → post summary → redact), strictly
 *   ordered: while its first due step waits out a backoff, its later steps wait too, so notes reach
 *   that destination in arrival order and summaries in window order (redactions go ahead of new
 *   deliveries only once `REDACT_AHEAD_AT` wait, so a steady stream cannot starve them);
 * - the LLM lane (summarise), shared: one summary per window, posted in every destination lane, so
 *   a down destination never stops summaries being prepared and a down LLM never stops raw notes;
 * - the index lane, the memory lane (each summary to the product's memory), and the idle close.
 */

export type Step =
  | { kind: "deliver"; key: string; lane: number; noteId: number | null }
  | { kind: "summarise"; key: string; window: number }
  | { kind: "post-summary"; key: string; lane: number; window: number }
  | { kind: "redact"; key: string; lane: number; noteId: number }
  | { kind: "close-idle"; key: string }
  | { kind: "index"; key: string }
  | { kind: "memory"; key: string; window: number }
  | { kind: "expire"; key: string };

export type StepKind = Step["kind"];
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

export type Lane = "destination" | "llm" | "index" | "memory";

/** The lane a step runs in: summarise in the LLM lane, index and memory each in its own, every other step in a destination lane. */
export function laneOf(kind: StepKind): Lane {
  return kind === "summarise" ? "llm" : kind === "index" ? "index" : kind === "memory" ? "memory" : "destination";
}

/** What runs one after another: a destination lane (by id), the LLM lane, the index lane, the memory lane, the idle close. */
export type Runner = number | "llm" | "index" | "memory" | "idle";

export type Plan = { kind: "run"; step: Step } | { kind: "wait"; until: number } | { kind: "idle" };

/** A step's stored retry state, as the plan sees it. */
export interface StepRetry {
  attempts: number;
  nextAttemptAt: number;
  parked: boolean;
}

/** One destination lane, as the plan sees it. */
export interface LaneInput {
  id: number;
  /** The destination can be written to (linked, or it needs no link). */
  canPost: boolean;
  /** The lane's undelivered batches: first and last arrival times, oldest window. */
  pending: { firstAt: number; lastAt: number; window: number } | null;
  /** A raw note prepared but not confirmed posted (resume it before anything else). */
  inflightRawNote: number | null;
  /** The next summary the lane posts. */
  nextToPost: number | null;
  /** Oldest live note of the lane that its posted summaries now cover. */
  nextToRedact: number | null;
  /** How many notes of the lane its posted summaries cover (redactions due). */
  redactable: number;
}

export interface PlanInput {
  now: number;
  debounceMs: number;
  debounceMaxMs: number;
  /** One per outbound destination; none for a session whose only destination is its own store. */
  lanes: readonly LaneInput[];
  /** Flush requested at this time: everything pending up to it is due now. */
  flushAt: number | null;
  /** Oldest closed window with no summary yet. */
  nextToSummarise: number | null;
  /** LLM calls are held until this time (circuit breaker open), if set. */
  llmBlockedUntil: number | null;
  /** Idle handling: when the open window (if it holds actions) should be closed, and when the session expires. */
  idleCloseAt: number | null;
  expireAt: number | null;
  /** When the session's entry in its product's index is due (`session/indexing.ts`); absent or null: not due. */
  indexDueAt?: number | null;
  /** The oldest stored summary the product's memory does not have; absent or null: none (or memory is off). */
  nextToMemorise?: number | null;
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
export function deliverDueAt(input: Pick<PlanInput, "debounceMs" | "debounceMaxMs" | "flushAt"> & Pick<LaneInput, "pending">): number | null {
  const { pending, debounceMs, debounceMaxMs, flushAt } = input;
  if (!pending) return null;
  if (flushAt !== null && flushAt >= pending.firstAt) return pending.firstAt;
  return Math.min(pending.lastAt + debounceMs, pending.firstAt + debounceMaxMs);
}

function gate(step: Step, dueAt: number, steps: ReadonlyMap<string, StepRetry>): { step: Step; at: number } {
  const row = steps.get(step.key);
  return { step, at: row ? Math.max(dueAt, row.nextAttemptAt) : dueAt };
}

/**
 * A lane holding this many notes its summaries cover redacts before it delivers: under a steady
 * stream (no debounce) a delivery is nearly always due, and redactions that waited for the stream
 * to end grew with it (a 10,000-action burst left 1,300 notes behind). Below it, new actions go
 * out first, as they are what the agent is missing.
 */
export const REDACT_AHEAD_AT = 4;

function destinationLane(input: PlanInput, lane: LaneInput): { step: Step; at: number } | null {
  const { now, steps } = input;
  if (!lane.canPost) return null;
  const id = lane.id;
  if (lane.inflightRawNote !== null) {
    return gate({ kind: "deliver", key: `deliver:${lane.inflightRawNote}`, lane: id, noteId: lane.inflightRawNote }, now, steps);
  }
  const redact = lane.nextToRedact === null ? null : gate({ kind: "redact", key: `redact:${lane.nextToRedact}`, lane: id, noteId: lane.nextToRedact }, now, steps);
  // Only when it may run now: a redaction waiting out its backoff never holds back new actions.
  if (redact && lane.redactable >= REDACT_AHEAD_AT && redact.at <= now) return redact;
  const due = deliverDueAt({ ...input, pending: lane.pending });
  const candidates: { step: Step; at: number }[] = [];
  if (due !== null) candidates.push(gate({ kind: "deliver", key: `deliver:${id}:new`, lane: id, noteId: null }, due, steps));
  // A summary goes out after the raw notes of the actions it covers, as the SDK writes them.
  const waitsForRaw = lane.pending !== null && lane.nextToPost !== null && lane.pending.window <= lane.nextToPost;
  if (lane.nextToPost !== null && !waitsForRaw) {
    const w = lane.nextToPost;
    candidates.push(gate({ kind: "post-summary", key: `post:${id}:${w}`, lane: id, window: w }, now, steps));
  }
  if (redact) candidates.push(redact);
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

/** The memory lane: each summary in window order, gated by its own backoff only, so notes never wait for it. */
function memoryLane(input: PlanInput): { step: Step; at: number } | null {
  if (input.nextToMemorise === undefined || input.nextToMemorise === null) return null;
  const w = input.nextToMemorise;
  return gate({ kind: "memory", key: `memory:${w}`, window: w }, input.now, input.steps);
}

function idleClose(input: PlanInput): { step: Step; at: number } | null {
  return input.idleCloseAt === null ? null : { step: { kind: "close-idle", key: "close-idle" }, at: input.idleCloseAt };
}

/** Each runner's next step and when it is due (null: nothing to do). */
function runnerSteps(input: PlanInput): [Runner, { step: Step; at: number } | null][] {
  return [
    ...input.lanes.map((lane): [Runner, { step: Step; at: number } | null] => [lane.id, destinationLane(input, lane)]),
    ["llm", llmLane(input)],
    ["index", indexLane(input)],
    ["memory", memoryLane(input)],
    ["idle", idleClose(input)],
  ];
}

function planOf(candidates: readonly ({ step: Step; at: number } | null)[], input: PlanInput): Plan {
  const present = candidates.filter((c): c is { step: Step; at: number } => c !== null);
  const due = present.find((c) => c.at <= input.now);
  if (due) return { kind: "run", step: due.step };
  const deadlines = present.map((c) => c.at);
  return deadlines.length ? { kind: "wait", until: Math.min(...deadlines) } : { kind: "idle" };
}

/**
 * Picks the next step of the whole session. Cases, in priority order:
 * - the session expired (retention): erase it;
 * - a due destination step (resume an in-flight raw note, deliver, post a summary, redact), lane by lane;
 * - a due summarise step;
 * - a due index step, then a due memory step;
 * - the open window went idle: close it so it gets summarised;
 * - otherwise wait for the earliest deadline, or rest when there is none.
 */
export function planNextStep(input: PlanInput): Plan {
  const { now } = input;
  if (input.expireAt !== null && input.expireAt <= now) return { kind: "run", step: { kind: "expire", key: "expire" } };
  const plan = planOf(runnerSteps(input).map(([, c]) => c), input);
  if (plan.kind === "run" || input.expireAt === null) return plan;
  return { kind: "wait", until: plan.kind === "wait" ? Math.min(plan.until, input.expireAt) : input.expireAt };
}

/** The next step of one runner (the session's expiry is the drain's, before any runner starts). */
export function planRunner(input: PlanInput, runner: Runner): Plan {
  const found = runnerSteps(input).find(([r]) => r === runner);
  return planOf([found?.[1] ?? null], input);
}

/** The runners the session has now, in plan order. */
export function runnersOf(input: Pick<PlanInput, "lanes">): Runner[] {
  return [...input.lanes.map((l) => l.id), "llm", "index", "memory", "idle"];
}

/** The alarm time the plan asks for: now for a due step, the deadline for a wait, none at rest. */
export function computeNextAlarm(input: PlanInput): number | null {
  const plan = planNextStep(input);
  if (plan.kind === "run") return input.now;
  return plan.kind === "wait" ? plan.until : null;
}
