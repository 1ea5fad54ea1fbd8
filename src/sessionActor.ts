/**
 * @module
 * One Durable Object per session (`{product_id}:{session_id}`). Requests only write and arm the
 * alarm; the lanes (one per destination, the LLM's, the index's) run their due steps until none is
 * due, from `alarm()`, or started by a request that made a step due now, once it has answered
 * (the alarm is then their backstop: a run lost to eviction resumes within `KICK_BACKSTOP_MS`).
 * The behaviour lives in `session/sessionCore.ts`, the pure plan and the pure alarm policy
 * (`session/alarm.ts`); this class wires them to the real storage, destination, LLM, clock and
 * product (its settings over the environment's, its session index), with RPC and lazy schema setup.
 */
import { DurableObject } from "cloudflare:workers";
import { sessionActivity, type SessionActivity } from "./agents/sessionActivity";
import { loadConfig, sessionConfig, type SessionConfig } from "./config";
import { productConfig } from "./config/product";
import { DestinationsByEntry } from "./destinations/byEntry";
import { llmBreaker } from "./llm/breaker";
import { createSummariser } from "./llm/createSummariser";
import { configureLogging, log } from "./log";
import { leaveIndexQuietly, productSettings, productStub, writeIndexEntry, writeMemoryEntry } from "./product/client";
import { configureMeter, meter } from "./meter";
import { nextAlarmAt, type AlarmAction } from "./session/alarm";
import type { Dedupe, IngestOutcome, KeyVerdict } from "./session/dedupe";
import type { Footprint } from "./session/backlog";
import type { AlreadyLinked, LinkResult } from "./session/linkResult";
import { LazySchema } from "./session/lazySchema";
import type { ActionsPayload } from "./session/model";
import { SessionCore, type BacklogFull } from "./session/sessionCore";
import { SessionStore } from "./session/sessionStore";
import type { SessionState } from "./session/stateView";
import type { SessionTimeline } from "./session/timeline";

/** Steps one run of the lanes takes before yielding (it re-arms the alarm to continue). */
const MAX_STEPS_PER_ALARM = 50;
/**
 * When a request starts the lanes, the alarm is set no later than this, in case that run is lost.
 * A session with no lane (the store) keeps its idle-close alarm: a lost run there delays only a
 * summary, as every accepted action is in the context at once.
 */
const KICK_BACKSTOP_MS = 60_000;

export type { AlreadyLinked, LinkResult };

export class SessionActor extends DurableObject<Env> {
  private readonly store: SessionStore;
  private readonly productId: string | null;
  private config: SessionConfig;
  private core: SessionCore;
  /** The product settings `config` was built from (the cached object, and as JSON): a change rebuilds the core. */
  private settingsSeen: unknown = null;
  private settingsKey = "null";
  private readonly schema: LazySchema;
  private alarmAt: number | null = null;
  private draining: Promise<void> | null = null;
  /** Destinations by entry (JSON; "" for the configured one), each built once. */
  private readonly destinations: DestinationsByEntry;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.destinations = new DestinationsByEntry(env);
    const settings = loadConfig(env);
    configureLogging(settings.logLevel);
    configureMeter(settings.meter);
    this.store = new SessionStore(ctx.storage);
    this.schema = new LazySchema(ctx.storage);
    // The name is `{product_id}:{session_id}`, and a product id holds no ":".
    this.productId = ctx.id.name?.split(":", 1)[0] ?? null;
    this.config = sessionConfig(env);
    this.core = this.buildCore();
    void ctx.blockConcurrencyWhile(async () => {
      this.schema.exists();
      this.alarmAt = await ctx.storage.getAlarm();
      await this.applyAlarm(nextAlarmAt({ phase: "start", current: this.alarmAt, now: Date.now() }));
    });
  }

  private buildCore(): SessionCore {
    const { llm } = this.config;
    return new SessionCore(
      {
        store: this.store,
        config: this.config,
        laneEntries: this.config.lanes.map((l) => l.entry),
        destination: (entry) => this.destinations.get(this.config, entry),
        index: this.productId === null ? undefined : (entry) => writeIndexEntry(this.env, this.productId!, entry),
        memory: this.productId === null || !this.config.memory ? undefined : (entry) => writeMemoryEntry(this.env, this.productId!, entry),
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
  }

  /**
   * The product's settings over the environment's, from the isolate's memory (`product/client.ts`,
   * at most 60 s old): a round trip only on the isolate's first touch of the product or a stale
   * entry. A change of settings applies to new work; notes already prepared keep their destination.
   */
  private async configure(): Promise<void> {
    if (this.productId === null) return;
    const settings = await productSettings(this.env, this.productId);
    // The steady state: the isolate's cache hands back the very object this config was built from.
    if (settings === this.settingsSeen) return;
    this.settingsSeen = settings;
    const key = JSON.stringify(settings);
    if (key === this.settingsKey) return;
    this.config = productConfig(loadConfig(this.env), this.env, settings);
    this.settingsKey = key;
    this.destinations.clear();
    this.core = this.buildCore();
  }

  // ---- RPC -----------------------------------------------------------------------------------

  /**
   * Durably appends a batch (one transaction), then arms the alarm. No destination or LLM I/O.
   * A full backlog refuses the batch whole (`backlog`), storing nothing of it.
   */
  async ingest(payload: ActionsPayload, dedupe: Dedupe): Promise<IngestOutcome> {
    meter.rpc("ingest");
    await this.configure();
    this.schema.ensure();
    const { dueBy, ...outcome } = this.core.ingest(payload, dedupe, Date.now());
    if (outcome.outcome !== "applied") return outcome;
    const now = Date.now();
    if (dueBy <= now) await this.kick(now);
    else await this.rearm(dueBy);
    return outcome;
  }

  /** Whether an Idempotency-Key is new here, a replay, or reused with another body. Stores nothing. */
  async idempotencyVerdict(idempotencyKey: string, fingerprint: string): Promise<KeyVerdict> {
    meter.rpc("idempotencyVerdict");
    await this.configure();
    return this.schema.exists() ? this.core.idempotencyVerdict(idempotencyKey, fingerprint, Date.now()) : "new";
  }

  /** Whether the backlog has room for `incoming` (null) or how long to wait. Reads only; stores nothing. */
  async backlogFull(incoming: Footprint): Promise<BacklogFull | null> {
    meter.rpc("backlogFull");
    await this.configure();
    return this.schema.exists() ? this.core.backlogFull(incoming, Date.now()) : null;
  }

  /** Sets where this session's notes go (a relink too). Held raw actions are written as one note on the next run. */
  async link(productId: string, sessionId: string, conversationId: string): Promise<LinkResult> {
    meter.rpc("link");
    await this.configure();
    this.schema.ensure();
    const result = this.core.link(productId, sessionId, conversationId, Date.now());
    await this.rearm();
    return result;
  }

  /** Like `link`, for the page's publishable key: sets a first link only, never moves one. */
  async linkFirst(productId: string, sessionId: string, conversationId: string): Promise<LinkResult | AlreadyLinked> {
    meter.rpc("linkFirst");
    await this.configure();
    this.schema.ensure();
    const result = this.core.link(productId, sessionId, conversationId, Date.now(), "first-link-only");
    if (!("already_linked" in result)) await this.rearm();
    return result;
  }

  /** Summarise what is pending now, below K, and deliver pending notes; parked steps try again. */
  async flush(): Promise<{ closed_window: boolean } | null> {
    meter.rpc("flush");
    await this.configure();
    if (!this.schema.exists()) return null;
    const result = this.core.flush(Date.now());
    if (result) await this.rearm();
    return result;
  }

  /**
   * Erases everything this session stored, alarm included, after removing it from its product's
   * index: if the index cannot be reached this throws and erases nothing, so a retry does both.
   */
  async erase(): Promise<boolean> {
    meter.rpc("erase");
    const s = this.schema.exists() ? this.store.session() : null;
    if (s && this.productId !== null) await productStub(this.env, this.productId).unindexSession(s.session_id, s.epoch);
    return this.eraseStorage(s !== null);
  }

  private async eraseStorage(existed: boolean): Promise<boolean> {
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.deleteAlarm();
    meter.alarmWrite();
    this.schema.forget();
    this.store.forget();
    this.alarmAt = null;
    return existed;
  }

  async state(): Promise<SessionState | null> {
    meter.rpc("state");
    await this.configure();
    return this.schema.exists() ? this.core.state(this.alarmAt, this.config.destination) : null;
  }

  async timeline(): Promise<SessionTimeline | null> {
    meter.rpc("timeline");
    return this.schema.exists() ? this.core.timeline() : null;
  }

  async context(query?: string): Promise<{ context: string } | null> {
    meter.rpc("context");
    const context = this.schema.exists() ? this.core.context(query) : null;
    return context === null ? null : { context };
  }

  /** For its user's activity (MCP, `…/users/:u/activity`): the latest summary and the newest uncovered actions. */
  async activity(query: { maxActions: number; userId: string }): Promise<SessionActivity | null> {
    meter.rpc("activity");
    const s = this.schema.exists() ? this.store.session() : null;
    return s ? sessionActivity(s, this.store.latestSummary(), this.store.uncoveredActions(s.covered_window), query) : null;
  }

  // ---- alarm ---------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    meter.alarm();
    this.alarmAt = null;
    await this.runLanes();
  }

  /**
   * One run of the lanes at a time: the alarm, a kick, a test or a retry calling in meanwhile joins
   * it, and starts the lanes that now have work (the run may be waiting on a slow call in another).
   */
  private runLanes(): Promise<void> {
    if (this.draining) {
      this.core.wake();
      return this.draining;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  /**
   * A step is due now (a window closed, or a batch to deliver without a debounce): the lanes run
   * right after this request answers, so a stream does not set and fire an alarm per batch. The
   * alarm stays no later than the backstop; a failing run only logs, the backstop retries it.
   */
  private async kick(now: number): Promise<void> {
    const backstopMs = this.config.lanes.length === 0 ? this.config.idleMs : KICK_BACKSTOP_MS;
    await this.applyAlarm(nextAlarmAt({ phase: "kick", current: this.alarmAt, now, backstopAt: now + backstopMs }));
    setTimeout(() => {
      this.runLanes().catch((err: unknown) => log("lane:error", { actor: this.ctx.id.name, error: err instanceof Error ? err.name : typeof err }));
    }, 0);
  }

  private async drain(): Promise<void> {
    if (!this.schema.exists()) return;
    await this.configure();
    let expired = false;
    try {
      const result = await this.core.drain(MAX_STEPS_PER_ALARM);
      if (result.kind === "expired") {
        expired = true;
        await leaveIndexQuietly(this.env, this.productId, this.store.session(), (error) => log("index:remove_failed", { actor: this.ctx.id.name, error }));
        await this.eraseStorage(true);
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
