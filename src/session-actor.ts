/**
 * @module
 * One Durable Object per session (`{product_id}:{session_id}`). Requests only write and arm the
 * alarm; `alarm()` is the session's single lane, running due steps in order until none is due.
 * Decisions live in the pure core (`session/plan.ts`); this class loads state, runs one step's
 * I/O through `session/runStep.ts`, and re-arms.
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "./config";
import { createDestination } from "./destinations/registry";
import type { Destination } from "./destinations/types";
import { createSummariser } from "./llm/createSummariser";
import { log } from "./log";
import { buildContext } from "./session/context";
import { migrate } from "./session/migrations";
import type { ActionsPayload } from "./session/model";
import { computeNextAlarm, planNextStep, type PlanInput } from "./session/plan";
import { runStep, type StepDeps } from "./session/runStep";
import { SessionStore, type SessionRow } from "./session/sessionStore";
import { buildState, type SessionState } from "./session/stateView";

/** Steps one alarm runs before yielding (it re-arms itself to continue). */
const MAX_STEPS_PER_ALARM = 50;
export const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60_000;
export const DEFAULT_PRE_LINK_WINDOW_MS = 120_000;

export interface LinkResult {
  conversation_id: string;
  previous: string | null;
  changed: boolean;
}

export class SessionActor extends DurableObject<Env> {
  private readonly store: SessionStore;
  private readonly config: Config;
  private schemaReady = false;
  private alarmAt: number | null = null;
  private draining: Promise<void> | null = null;
  private destinationCache: { value: Destination } | { error: Error } | null = null;
  private readonly deps: StepDeps;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SessionStore(ctx.storage);
    this.config = readConfig(env as unknown as Record<string, unknown>);
    this.deps = {
      store: this.store,
      config: this.config,
      destination: () => this.destination(),
      summariser: createSummariser(this.config.llm),
      now: () => Date.now(),
      random: () => Math.random(),
      log: (event, fields) => log(event, { actor: this.ctx.id.name, ...fields }),
    };
    void ctx.blockConcurrencyWhile(async () => {
      this.schemaReady = this.hasSchema();
      this.alarmAt = await ctx.storage.getAlarm();
      // A past-due alarm is never trusted to fire (it can be lost across restarts): re-arm it.
      if (this.alarmAt !== null && this.alarmAt < Date.now() - 60_000) await this.setAlarm(Date.now() + 1_000);
    });
  }

  // ---- RPC -----------------------------------------------------------------------------------

  /** Durably appends a batch (one transaction), then arms the alarm. No destination or LLM I/O. */
  async ingest(payload: ActionsPayload, dedupeKey: string): Promise<{ duplicate: boolean }> {
    this.ensureSchema();
    const now = Date.now();
    const result = this.store.tx(() => {
      const s = this.sessionFor(payload.product_id, payload.session_id!, now);
      if ((JSON.parse(s.recent_keys) as string[]).includes(dedupeKey)) {
        this.store.recordDuplicate();
        return { duplicate: true };
      }
      const identity = { user_id: payload.user_id, email: payload.email, link: payload.conversation_id };
      this.store.appendBatch(s, payload.actions, dedupeKey, identity, this.config.threshold, now);
      this.holdBackUnlinked(now);
      return { duplicate: false };
    });
    if (!result.duplicate) await this.rearm(now);
    return result;
  }

  /** Sets where this session's notes go. Held raw actions are written as one note on the next run. */
  async link(productId: string, sessionId: string, conversationId: string): Promise<LinkResult> {
    this.ensureSchema();
    const now = Date.now();
    const result = this.store.tx(() => {
      const s = this.sessionFor(productId, sessionId, now);
      if (s.link === conversationId) return { conversation_id: conversationId, previous: s.link, changed: false };
      this.holdBackUnlinked(now);
      this.store.setLink(conversationId, now);
      this.store.wakeSteps(now);
      return { conversation_id: conversationId, previous: s.link, changed: true };
    });
    await this.rearm(now);
    return result;
  }

  /** Summarise what is pending now, below K, and deliver pending notes; parked steps try again. */
  async flush(): Promise<{ closed_window: boolean } | null> {
    if (!this.hasSchema() || !this.store.session()) return null;
    const now = Date.now();
    const closed = this.store.tx(() => {
      const didClose = this.store.closeOpenWindow(now);
      this.store.setFlushAt(now);
      this.store.wakeSteps(now);
      return didClose;
    });
    await this.rearm(now);
    return { closed_window: closed };
  }

  /** Erases everything this session stored, alarm included. */
  async erase(): Promise<boolean> {
    const existed = this.hasSchema() && this.store.session() !== null;
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.deleteAlarm();
    this.schemaReady = false;
    this.alarmAt = null;
    return existed;
  }

  async state(): Promise<SessionState | null> {
    const s = this.hasSchema() ? this.store.session() : null;
    if (!s) return null;
    return buildState(this.store, s, {
      config: this.config,
      alarmAt: this.alarmAt,
      summariser: this.deps.summariser,
      destinationName: this.config.destination,
    });
  }

  async context(query?: string): Promise<{ context: string } | null> {
    const s = this.hasSchema() ? this.store.session() : null;
    if (!s) return null;
    return { context: buildContext(this.store, s, query) };
  }

  // ---- alarm ---------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    // Coalesce: alarm() never overlaps itself, but a test or a retry may call in while one runs.
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
    await this.draining;
  }

  private async drain(): Promise<void> {
    if (!this.hasSchema()) return;
    let expired = false;
    try {
      for (let i = 0; i < MAX_STEPS_PER_ALARM; i++) {
        const s = this.store.session();
        if (!s) return;
        const plan = planNextStep(this.planInput(s, Date.now()));
        if (plan.kind !== "run") return;
        if (plan.step.kind === "expire") {
          expired = true;
          await this.erase();
          log("session:expired", { actor: this.ctx.id.name, idle_ms: Date.now() - s.last_action_at });
          return;
        }
        await runStep(this.deps, s, plan.step);
      }
    } finally {
      if (!expired) await this.rearm(Date.now(), true);
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  private hasSchema(): boolean {
    if (this.schemaReady) return true;
    const found = this.ctx.storage.sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_migrations'")
      .toArray().length;
    this.schemaReady = found > 0;
    if (this.schemaReady) migrate(this.ctx.storage);
    return this.schemaReady;
  }

  /** Tables are created on the first write, so probing an unknown session stores nothing. */
  private ensureSchema(): void {
    if (this.schemaReady) return;
    migrate(this.ctx.storage);
    this.schemaReady = true;
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
    this.store.createSession(productId, sessionId, crypto.randomUUID().slice(0, 8), now);
    return this.store.session()!;
  }

  private destination(): Destination {
    if (!this.destinationCache) {
      try {
        const value = createDestination(this.config, {
          fetch: (input, init) => fetch(input, init),
          now: () => Date.now(),
          timeoutMs: this.config.destinationTimeoutMs,
        });
        this.destinationCache = { value };
      } catch (err) {
        this.destinationCache = { error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
    if ("error" in this.destinationCache) throw this.destinationCache.error;
    return this.destinationCache.value;
  }

  private needsLink(): boolean {
    try {
      return this.destination().needsLink;
    } catch {
      return false;
    }
  }

  /** Before a link exists, raw actions are held for a sliding window; older ones wait for their summary. */
  private holdBackUnlinked(now: number): void {
    const s = this.store.session();
    if (!s || s.link !== null || !this.needsLink()) return;
    const windowMs = Number(this.config.raw.PRE_LINK_WINDOW_MS ?? DEFAULT_PRE_LINK_WINDOW_MS);
    this.store.holdBackBefore(now - windowMs);
  }

  private planInput(s: SessionRow, now: number): PlanInput {
    const idleMs = Number(this.config.raw.SESSION_IDLE_MS ?? DEFAULT_IDLE_MS);
    const retentionMs = Number(this.config.raw.SESSION_RETENTION_MS ?? DEFAULT_RETENTION_MS);
    return this.store.planInput(
      s,
      now,
      {
        debounceMs: this.config.debounceMs,
        debounceMaxMs: this.config.debounceMaxMs,
        canPost: s.link !== null || !this.needsLink(),
        llmBlockedUntil: null,
        idleCloseAt: s.open_count > 0 ? s.last_action_at + idleMs : null,
        expireAt: s.last_action_at + retentionMs,
      },
      this.config.mode === "rolling",
    );
  }

  /**
   * Sets the alarm to the plan's earliest deadline. Outside `alarm()` an earlier alarm already set
   * is kept; inside it the plan is authoritative, and "now" becomes now + 1 ms (a same-instant
   * alarm set from inside `alarm()` can be dropped).
   */
  private async rearm(now: number, fromAlarm = false): Promise<void> {
    if (!fromAlarm && this.alarmAt !== null && this.alarmAt <= now) return;
    const s = this.store.session();
    const next = s ? computeNextAlarm(this.planInput(s, now)) : null;
    if (next === null) {
      if (fromAlarm && this.alarmAt === null) await this.ctx.storage.deleteAlarm();
      return;
    }
    const at = fromAlarm ? Math.max(next, Date.now() + 1) : next;
    if (!fromAlarm && this.alarmAt !== null && this.alarmAt <= at) return;
    await this.setAlarm(at);
  }

  private async setAlarm(at: number): Promise<void> {
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}
