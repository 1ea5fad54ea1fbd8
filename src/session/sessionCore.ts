/**
 * @module
 * The session's behaviour over its storage, free of Workers APIs so it also runs in plain Node
 * (the randomized simulation tests drive it on `node:sqlite`). The Durable Object wraps it with
 * RPC, schema setup and the alarm.
 */
import { backlogRetryAfterMs, footprintOf, hasRoom, type Footprint } from "./backlog";
import { buildContext } from "./context";
import type { Dedupe, IngestOutcome, KeyVerdict } from "./dedupe";
import type { AlreadyLinked, LinkPolicy, LinkResult } from "./linkResult";
import type { ActionsPayload } from "./model";
import { indexDueAt } from "./indexing";
import { computeNextAlarm, expiresAt, planNextStep, type PlanInput, type Step } from "./plan";
import { runRunners, type Planned } from "./runners";
import { buildState, type SessionState } from "./stateView";
import { buildTimeline, type SessionTimeline } from "./timeline";
import { runStep, type StepDeps } from "./steps";
import type { SessionRow } from "./store/schema";

export interface CoreTimings {
  /** Before a link, raw actions are held this long (sliding, by arrival); older ones wait for their summary. */
  preLinkWindowMs: number;
  /** An open window below K with no new action for this long is closed and summarised. */
  idleMs: number;
  /** A session with no new action for this long is erased. */
  retentionMs: number;
}

/** A batch refused because the session's backlog is full: retry after this long. */
export interface BacklogFull {
  retryAfterMs: number;
}

export type DrainResult = { kind: "rest" } | { kind: "expired"; idleMs: number } | { kind: "yield" };

/**
 * Expired seen keys are deleted at most this often (reads ignore them anyway), not on every
 * ingest: the delete scans the table (it has no age index, which cost two writes per key).
 */
const FORGET_SEEN_EVERY_MS = 10 * 60_000;

export class SessionCore {
  private readonly deps: StepDeps;
  private seenForgottenAt = -Infinity;
  /** While a drain runs: starts its runners that have work now (a request made some due). */
  private wakeDrain: (() => void) | null = null;
  /** The session incarnation (epoch) whose lanes were last made those of `laneEntries`. */
  private lanesSyncedFor: string | null = null;

  constructor(
    deps: StepDeps,
    private readonly timings: CoreTimings,
  ) {
    // The extractive summariser has no network to fail, so it never consults or trips the breaker.
    this.deps = deps.summariser.extractive ? { ...deps, breaker: undefined } : deps;
    deps.store.holdForMemory(deps.memory !== undefined);
  }

  private get store() {
    return this.deps.store;
  }

  /** Whether a lane's destination writes to a linked conversation (Intercom), so waits for the link. */
  private needsLink(entry: string): boolean {
    try {
      return this.deps.destination(entry).needsLink;
    } catch {
      // Unusable settings: let the deliver step run and park with the configuration error.
      return false;
    }
  }

  /** The session's lanes are those of its configured destinations (checked once per incarnation and settings). */
  private syncLanes(s: SessionRow, now: number): void {
    if (this.lanesSyncedFor === s.epoch) return;
    if (this.store.syncLanes(this.deps.laneEntries, now)) this.store.prune(this.deps.config.mode === "rolling");
    this.lanesSyncedFor = s.epoch;
  }

  private sessionFor(productId: string, sessionId: string, now: number): SessionRow {
    const existing = this.store.session();
    if (existing) {
      // Defence in depth: the actor name carries the product, and a session never changes owner.
      if (existing.product_id !== productId || existing.session_id !== sessionId) {
        throw new Error("session identity does not match this actor");
      }
      return existing;
    }
    const epoch = Math.floor(this.deps.random() * 0xffffffff).toString(16).padStart(8, "0");
    this.store.createSession(productId, sessionId, epoch, now);
    return this.store.session()!;
  }

  /** In each lane that waits for a link, before there is one: what is older than the hold is left to the summary. */
  private holdBackUnlinked(now: number): void {
    const waiting = this.deps.laneEntries.filter((entry) => this.needsLink(entry));
    if (waiting.length === 0) return;
    const s = this.store.session();
    if (!s || s.link !== null) return;
    let held = 0;
    for (const lane of this.store.lanes()) {
      if (waiting.includes(lane.destination)) held = Math.max(held, this.store.holdBack(lane, s, now - this.timings.preLinkWindowMs));
    }
    this.store.countHeldBack(held);
  }

  /** No outbound destination: the session's own rows are all there is to write. */
  private get ownStoreOnly(): boolean {
    return this.deps.laneEntries.length === 0;
  }

  /**
   * One transaction: dedupe, append to the open window, close it at ≥ K. `dueBy` is the latest time
   * the alarm must fire for this batch (now if it closed a window, else when its debounce ends; for
   * the store, whose batches need no step, any alarm already set will do), so the caller can skip
   * planning when an alarm is already set no later than that. A conflicting
   * Idempotency-Key or a batch seen whole stores nothing; a source batch stores its unseen events.
   */
  ingest(payload: ActionsPayload, dedupe: Dedupe, now: number): IngestOutcome & { dueBy: number } {
    return this.store.tx(() => {
      const s = this.sessionFor(payload.product_id, payload.session_id!, now);
      this.syncLanes(s, now);
      const since = now - this.deps.config.idempotencyTtlMs;
      if (now - this.seenForgottenAt >= FORGET_SEEN_EVERY_MS) {
        // A session younger than the TTL has no key old enough to forget: most actors' starts skip the scan.
        if (s.created_at < since) this.store.forgetSeenBefore(since);
        this.seenForgottenAt = now;
      }
      const admitted = this.store.admission(dedupe, payload.actions, since, now);
      if (admitted.verdict === "conflict") return { outcome: "conflict", actions: 0, seen: 0, dueBy: Infinity };
      if (admitted.verdict === "duplicate") {
        this.store.recordDuplicate();
        return { outcome: "duplicate", actions: 0, seen: admitted.seen, dueBy: Infinity };
      }
      const backlog = this.roomFor(s, footprintOf(admitted.actions), now);
      if (backlog && admitted.claimed !== null) this.store.unclaim(admitted.claimed);
      if (backlog) return { outcome: "backlog", actions: 0, seen: 0, retryAfterMs: backlog.retryAfterMs, dueBy: Infinity };
      // Before the append: a batch that brings the link must not send what the hold kept back.
      this.holdBackUnlinked(now);
      const identity = { user_id: payload.user_id, email: payload.email, link: payload.conversation_id };
      const { closedWindow } = this.store.appendBatch(s, admitted.actions, identity, this.deps.config.threshold, now, this.ownStoreOnly);
      // Remembered only once the batch is in, so a batch refused above can be retried.
      this.store.rememberSeen(admitted.remember, now);
      const dueBy = closedWindow ? now : this.ownStoreOnly ? Infinity : now + this.deps.config.debounceMs;
      return { outcome: "applied", actions: admitted.actions.length, seen: admitted.seen, dueBy };
    });
  }

  /** Whether an Idempotency-Key is new here, a replay, or reused with another body; writes nothing. */
  idempotencyVerdict(idempotencyKey: string, fingerprint: string, now: number): KeyVerdict {
    if (!this.store.session()) return "new";
    return this.store.idempotencyVerdict(idempotencyKey, fingerprint, now - this.deps.config.idempotencyTtlMs);
  }

  /**
   * Null when the session's backlog has room for `incoming` (a read, for checking a whole request
   * before applying any of it); else how long the sender should wait.
   */
  backlogFull(incoming: Footprint, now: number): BacklogFull | null {
    const s = this.store.session();
    return s && this.roomFor(s, incoming, now);
  }

  private roomFor(s: SessionRow, incoming: Footprint, now: number): BacklogFull | null {
    const { maxPendingActions, maxPendingBytes } = this.deps.config;
    if (hasRoom(this.store.backlog(s), incoming, { maxPendingActions, maxPendingBytes })) return null;
    return { retryAfterMs: backlogRetryAfterMs(this.nextAlarm(now), now) };
  }

  /**
   * Sets the link; a relink sends future notes to the new conversation. Parked steps try again.
   * Under `first-link-only` a session linked elsewhere is left as it is.
   */
  link(productId: string, sessionId: string, conversationId: string, now: number, policy?: "relink"): LinkResult;
  link(productId: string, sessionId: string, conversationId: string, now: number, policy: LinkPolicy): LinkResult | AlreadyLinked;
  link(productId: string, sessionId: string, conversationId: string, now: number, policy: LinkPolicy = "relink"): LinkResult | AlreadyLinked {
    return this.store.tx(() => {
      const s = this.sessionFor(productId, sessionId, now);
      this.syncLanes(s, now);
      if (s.link === conversationId) return { conversation_id: conversationId, previous: s.link, changed: false };
      if (s.link !== null && policy === "first-link-only") return { already_linked: true };
      this.holdBackUnlinked(now);
      this.store.setLink(conversationId, now);
      this.store.wakeSteps(now);
      return { conversation_id: conversationId, previous: s.link, changed: true };
    });
  }

  /** Closes the open window below K, makes pending notes due, and wakes parked steps. */
  flush(now: number): { closed_window: boolean } | null {
    if (!this.store.session()) return null;
    return this.store.tx(() => {
      const closed = this.store.closeOpenWindow();
      this.store.setFlushAt(now);
      this.store.wakeSteps(now);
      return { closed_window: closed };
    });
  }

  /** The state endpoint's view; `alarmAt` is the alarm the actor has set. Null when there is no session. */
  state(alarmAt: number | null, destination: string): SessionState | null {
    const s = this.store.session();
    if (!s) return null;
    const { config, summariser, breaker } = this.deps;
    return buildState(this.store, s, { config, destination, alarmAt, summariser: summariser.name, breaker: breaker?.view() ?? null });
  }

  /** The console's timeline (`session/timeline.ts`), or null when there is no session. */
  timeline(): SessionTimeline | null {
    const rows = this.store.timelineRows();
    return rows && buildTimeline(rows, this.deps.config.mode === "rolling", this.deps.breaker?.view() ?? null);
  }

  /** The context an agent reads now, or null when there is no session. */
  context(query?: string): string | null {
    const s = this.store.session();
    return s ? buildContext(this.store, s, query) : null;
  }

  /** The plan's whole input, from one store read; null when there is no session. */
  private planInput(now: number): Planned | null {
    const { config, breaker } = this.deps;
    const rows = this.store.planRows(config.mode === "rolling");
    if (!rows) return null;
    const s = rows.session;
    const input: PlanInput = {
      now,
      debounceMs: config.debounceMs,
      debounceMaxMs: config.debounceMaxMs,
      lanes: rows.lanes.map((lane) => ({
        id: lane.id,
        canPost: s.link !== null || !this.needsLink(lane.destination),
        pending: lane.pending && { firstAt: lane.pending.firstAt, lastAt: lane.pending.lastAt, window: lane.pending.window },
        inflightRawNote: lane.inflightRawNote,
        nextToPost: lane.nextToPost,
        nextToRedact: lane.nextToRedact,
        redactable: lane.redactable,
      })),
      flushAt: s.flush_at,
      nextToSummarise: rows.nextToSummarise,
      // While the breaker holds LLM calls the LLM lane waits, and the alarm wakes when it lets a probe through.
      llmBlockedUntil: breaker?.blockedUntil(now) ?? null,
      idleCloseAt: s.open_count > 0 ? s.last_action_at + this.timings.idleMs : null,
      expireAt: expiresAt(
        { createdAt: s.created_at, lastActionAt: s.last_action_at, actionsAccepted: s.actions_accepted },
        this.timings.retentionMs,
      ),
      indexDueAt: this.deps.index ? indexDueAt(s, rows.steps) : null,
      nextToMemorise: this.deps.memory ? rows.nextToMemorise : null,
      steps: new Map(rows.steps.map((r) => [r.key, { attempts: r.attempts, nextAttemptAt: r.next_attempt_at, parked: r.parked_at !== null }])),
    };
    return { session: s, input };
  }

  /** When the alarm should fire for the plan: now for a due step, the earliest deadline, or null at rest. */
  nextAlarm(now: number): number | null {
    const planned = this.planInput(now);
    return planned ? computeNextAlarm(planned.input) : null;
  }

  nextStep(now: number): Step | null {
    const planned = this.planInput(now);
    const plan = planned && planNextStep(planned.input);
    return plan?.kind === "run" ? plan.step : null;
  }

  /**
   * A request made work due while a drain runs: the runners that were resting start now, so a
   * lane waiting on a slow call elsewhere does not hold back a lane that has a note to send.
   * Says whether a drain was running.
   */
  wake(): boolean {
    this.wakeDrain?.();
    return this.wakeDrain !== null;
  }

  /**
   * Runs due steps until none is due (rest), the session expires, or `maxSteps` (yield): every
   * lane at once, each in order (`session/runners.ts`).
   */
  async drain(maxSteps: number): Promise<DrainResult> {
    const now = this.deps.now();
    const first = this.planInput(now);
    if (!first) return { kind: "rest" };
    if (first.input.expireAt !== null && first.input.expireAt <= now) return { kind: "expired", idleMs: now - first.session.last_action_at };
    this.syncLanes(first.session, now);
    const steps = await runRunners({
      first,
      plan: () => this.planInput(this.deps.now()),
      run: (session, step) => runStep(this.deps, session, step),
      maxSteps,
      onWake: (wake) => {
        this.wakeDrain = wake;
      },
    });
    return steps >= maxSteps ? { kind: "yield" } : { kind: "rest" };
  }
}
