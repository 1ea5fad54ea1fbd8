/**
 * @module
 * One Durable Object per session (`{product_id}:{session_id}`). Requests only write and arm the
 * alarm; `alarm()` is the session's single lane, running due steps in order until none is due.
 * The behaviour lives in `session/sessionCore.ts`, the pure plan and the pure alarm policy
 * (`session/alarm.ts`); this class wires them to the real storage, destination, LLM and clock,
 * with RPC and lazy schema setup.
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfig, sessionConfig, type SessionConfig } from "./config";
import { createDestination } from "./destinations/registry";
import type { Destination } from "./destinations/types";
import { llmBreaker } from "./llm/breaker";
import { createSummariser } from "./llm/createSummariser";
import { configureLogging, log } from "./log";
import { configureMeter, metered, meter } from "./meter";
import { nextAlarmAt, type AlarmAction } from "./session/alarm";
import type { Dedupe, IngestOutcome, KeyVerdict } from "./session/dedupe";
import type { Footprint } from "./session/backlog";
import type { AlreadyLinked, LinkResult } from "./session/linkResult";
import { migrate } from "./session/migrations";
import type { ActionsPayload } from "./session/model";
import { SessionCore, type BacklogFull } from "./session/sessionCore";
import { SessionStore } from "./session/sessionStore";
import type { SessionState } from "./session/stateView";

/** Steps one alarm runs before yielding (it re-arms itself to continue). */
const MAX_STEPS_PER_ALARM = 50;

export type { AlreadyLinked, LinkResult };

export class SessionActor extends DurableObject<Env> {
  private readonly store: SessionStore;
  private readonly config: SessionConfig;
  private readonly core: SessionCore;
  private schemaReady = false;
  private alarmAt: number | null = null;
  private draining: Promise<void> | null = null;
  private destinationCache: { value: Destination } | { error: Error } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const settings = loadConfig(env);
    configureLogging(settings.logLevel);
    configureMeter(settings.meter);
    this.store = new SessionStore(ctx.storage);
    this.config = sessionConfig(env);
    const { llm } = this.config;
    this.core = new SessionCore(
      {
        store: this.store,
        config: this.config,
        destination: () => this.destination(),
        summariser: createSummariser(llm),
        breaker: llmBreaker(llm),
        now: () => Date.now(),
        random: () => Math.random(),
        log: (event, fields) => log(event, { actor: this.ctx.id.name, ...fields }),
      },
      {
        preLinkWindowMs: this.config.preLinkWindowMs,
        idleMs: this.config.idleMs,
        retentionMs: this.config.retentionMs,
      },
    );
    void ctx.blockConcurrencyWhile(async () => {
      this.schemaReady = this.hasSchema();
      this.alarmAt = await ctx.storage.getAlarm();
      await this.applyAlarm(nextAlarmAt({ phase: "start", current: this.alarmAt, now: Date.now() }));
    });
  }

  // ---- RPC -----------------------------------------------------------------------------------

  /**
   * Durably appends a batch (one transaction), then arms the alarm. No destination or LLM I/O.
   * A full backlog refuses the batch whole (`backlog`), storing nothing of it.
   */
  async ingest(payload: ActionsPayload, dedupe: Dedupe): Promise<IngestOutcome> {
    meter.rpc("ingest");
    this.ensureSchema();
    const { dueBy, ...outcome } = this.core.ingest(payload, dedupe, Date.now());
    if (outcome.outcome === "applied") await this.rearm(dueBy);
    return outcome;
  }

  /** Whether an Idempotency-Key is new here, a replay, or reused with another body. Stores nothing. */
  async idempotencyVerdict(idempotencyKey: string, fingerprint: string): Promise<KeyVerdict> {
    meter.rpc("idempotencyVerdict");
    return this.hasSchema() ? this.core.idempotencyVerdict(idempotencyKey, fingerprint, Date.now()) : "new";
  }

  /** Whether the backlog has room for `incoming` (null) or how long to wait. Reads only; stores nothing. */
  async backlogFull(incoming: Footprint): Promise<BacklogFull | null> {
    meter.rpc("backlogFull");
    return this.hasSchema() ? this.core.backlogFull(incoming, Date.now()) : null;
  }

  /** Sets where this session's notes go (a relink too). Held raw actions are written as one note on the next run. */
  async link(productId: string, sessionId: string, conversationId: string): Promise<LinkResult> {
    meter.rpc("link");
    this.ensureSchema();
    const result = this.core.link(productId, sessionId, conversationId, Date.now());
    await this.rearm();
    return result;
  }

  /** Like `link`, for the page's publishable key: sets a first link only, never moves one. */
  async linkFirst(productId: string, sessionId: string, conversationId: string): Promise<LinkResult | AlreadyLinked> {
    meter.rpc("linkFirst");
    this.ensureSchema();
    const result = this.core.link(productId, sessionId, conversationId, Date.now(), "first-link-only");
    if (!("already_linked" in result)) await this.rearm();
    return result;
  }

  /** Summarise what is pending now, below K, and deliver pending notes; parked steps try again. */
  async flush(): Promise<{ closed_window: boolean } | null> {
    meter.rpc("flush");
    if (!this.hasSchema()) return null;
    const result = this.core.flush(Date.now());
    if (result) await this.rearm();
    return result;
  }

  /** Erases everything this session stored, alarm included. */
  async erase(): Promise<boolean> {
    meter.rpc("erase");
    return this.eraseStorage();
  }

  private async eraseStorage(): Promise<boolean> {
    const existed = this.hasSchema() && this.store.session() !== null;
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.deleteAlarm();
    meter.alarmWrite();
    this.schemaReady = false;
    this.alarmAt = null;
    return existed;
  }

  async state(): Promise<SessionState | null> {
    meter.rpc("state");
    return this.hasSchema() ? this.core.state(this.alarmAt, this.config.destination) : null;
  }

  async context(query?: string): Promise<{ context: string } | null> {
    meter.rpc("context");
    const context = this.hasSchema() ? this.core.context(query) : null;
    return context === null ? null : { context };
  }

  // ---- alarm ---------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    meter.alarm();
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
      const result = await this.core.drain(MAX_STEPS_PER_ALARM);
      if (result.kind === "expired") {
        expired = true;
        await this.eraseStorage();
        log("session:expired", { actor: this.ctx.id.name, idle_ms: result.idleMs });
      }
    } finally {
      if (!expired) {
        const now = Date.now();
        await this.applyAlarm(nextAlarmAt({ phase: "alarm", current: this.alarmAt, now, planned: () => this.core.nextAlarm(now) }));
      }
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  private hasSchema(): boolean {
    if (this.schemaReady) return true;
    const found = metered(this.ctx.storage.sql)
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

  /** After a request wrote: `dueBy` is the latest time its write needs the alarm. */
  private rearm(dueBy = Date.now()): Promise<void> {
    const now = Date.now();
    return this.applyAlarm(nextAlarmAt({ phase: "request", current: this.alarmAt, now, dueBy, planned: () => this.core.nextAlarm(now) }));
  }

  private async applyAlarm(action: AlarmAction): Promise<void> {
    if (action.kind === "set") {
      this.alarmAt = action.at;
      await this.ctx.storage.setAlarm(action.at);
      meter.alarmWrite();
    } else if (action.kind === "delete") {
      await this.ctx.storage.deleteAlarm();
      meter.alarmWrite();
    }
  }
}
