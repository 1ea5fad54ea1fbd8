/**
 * The fault campaign's driver: one seed runs several sessions (two products) through a random
 * interleaving of ingest (duplicates and concurrent POSTs included), alarms, graceful eviction,
 * crashes at any await (an actor aborted while a request of it hangs), flushes and backoffs made
 * due, while the destination and the LLM misbehave; then it heals every fault but one session's
 * destination (the others must finish regardless), heals that too, flushes, runs to quiescence,
 * and checks every invariant after each operation and at the end.
 */
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { loadConfig, need } from "../../src/config";
import { CircuitBreaker, llmBreaker } from "../../src/llm/breaker";
import { MAX_WINDOWS_PER_CALL } from "../../src/session/steps/summarise";
import { stubFor } from "../helpers/api";
import { createWorld, type Violation, type World } from "../world";
import { HEALED, seededFaults } from "../world/faults";
import { Ledger } from "../world/ledger";
import { Rng } from "../world/prng";
import { Actors, sleep, type SessionHandle } from "./actors";
import { Client } from "./client";
import { checkSnapshot, type ActorSnapshot } from "./invariants";
import { OPERATIONS, perform, type OperationContext } from "./operations";

/** What a deliberately broken build puts between the actors and the outside world (teeth.test.ts). */
export type Outbound = (send: (request: Request) => Promise<Response>) => (request: Request) => Promise<Response>;

const QUIESCE_ROUNDS = 40;
/** A round that fired no alarm waits this long for the runs workerd started by itself. */
const QUIESCE_PAUSE_MS = 10;
const OP_WATCHDOG_MS = 15_000;

export interface SeedResult {
  seed: number;
  ops: number;
  sessions: number;
  faults: Record<string, number>;
  violations: Violation[];
  accepted: number;
  covered: number;
  crashes: number;
  evictions: number;
  breakerOpens: number;
  llmCalls: number;
  redeliveries: number;
  trace: string[];
}

export class Campaign {
  readonly rng: Rng;
  readonly seed: number;
  readonly ledger = new Ledger();
  readonly world: World;
  readonly sessions: SessionHandle[] = [];
  private readonly faults: ReturnType<typeof seededFaults>;
  private readonly outbound: Outbound | undefined;
  /** This project's settings: K and the summary mode are the same for every session of a run. */
  private readonly config = need(loadConfig(env).core);
  private readonly breaker: CircuitBreaker;
  private readonly violations: Violation[] = [];
  private readonly trace: string[] = [];
  private readonly actors: Actors;
  private readonly client: Client;
  private readonly operationContext: OperationContext;
  private breakerOpens = 0;
  private ops = 0;

  constructor(seed: number, outbound?: Outbound) {
    this.seed = seed;
    this.outbound = outbound;
    this.rng = new Rng(seed);
    // Keyed by the actor's place in the seed and the webhook-id without the actor's random epoch
    // ({epoch}-n{id}), so a seed replays the same faults.
    this.faults = seededFaults(seed, (call) => `${this.sessions.findIndex((h) => h.actor === call.actor)}|${call.webhookId.replace(/^[^-]*-/, "")}`);
    this.world = createWorld({
      secret: env.WEBHOOK_SECRET,
      ledger: this.ledger,
      faults: this.faults,
      // A window closes at the batch reaching K, so it holds at most K - 1 + the largest batch.
      maxPromptActions: (this.config.threshold - 1 + Client.maxBatch(seed)) * MAX_WINDOWS_PER_CALL,
      maxPromptChars: this.config.maxPromptChars,
    });
    const { llm } = this.config;
    this.breaker = llmBreaker(llm);
    const run = crypto.randomUUID().slice(0, 6);
    const count = this.rng.int(2, 4);
    for (let index = 0; index < count; index++) {
      const productId = index % 2 === 0 ? "p-alpha" : "p-beta";
      const sessionId = `c${seed}-${index}-${run}`;
      const actor = `${productId}:${sessionId}`;
      this.sessions.push({ index, productId, sessionId, actor, stub: stubFor(productId, sessionId), nextToken: 1, running: 0 });
    }
    this.actors = new Actors(this.sessions, this.world);
    this.client = new Client(this.rng, this.ledger, this.actors, this.violations, seed);
    this.operationContext = { rng: this.rng, sessions: this.sessions, client: this.client, actors: this.actors, faults: this.faults, note: (line) => this.note(line) };
  }

  /** Runs the whole seed with the fakes installed; always uninstalls them. */
  async run(): Promise<SeedResult> {
    const send = this.outbound ? this.outbound((r) => this.world.handle(r)) : (r: Request) => this.world.handle(r);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => send(new Request(input, init)));
    this.world.llm.tickets = 0;
    const acquire = vi.spyOn(this.breaker, "tryAcquire").mockImplementation((now: number) => {
      const ticket = CircuitBreaker.prototype.tryAcquire.call(this.breaker, now);
      if (ticket) this.world.llm.tickets! += 1;
      return ticket;
    });
    const recordSpy = vi.spyOn(this.breaker, "record").mockImplementation((ticket, outcome, now) => {
      const before = this.breaker.state.kind;
      const after = CircuitBreaker.prototype.record.call(this.breaker, ticket, outcome, now);
      if (after.kind === "open" && before !== "open") this.breakerOpens += 1;
      return after;
    });
    this.breaker.reset();
    try {
      await this.faultPhase();
      if (this.clean()) await this.isolationPhase();
      if (this.clean()) await this.finalPhase();
    } finally {
      await this.cleanup();
      fetchSpy.mockRestore();
      acquire.mockRestore();
      recordSpy.mockRestore();
      this.breaker.reset();
    }
    return this.result();
  }

  private clean(): boolean {
    return this.allViolations().length === 0;
  }

  private allViolations(): Violation[] {
    return [...this.violations, ...this.world.violations];
  }

  private note(line: string): void {
    this.trace.push(line);
    if (this.trace.length > 40) this.trace.shift();
  }

  // ---- phases --------------------------------------------------------------------------------

  private async faultPhase(): Promise<void> {
    const { rng } = this;
    const sick = this.sessions.length > 2 || rng.chance(0.6) ? new Set([rng.pick(this.sessions).actor]) : new Set<string>();
    this.faults.plan = { destRate: 0.1 + rng.float() * 0.4, llmRate: 0.1 + rng.float() * 0.5, sick };
    this.note(`plan dest=${this.faults.plan.destRate.toFixed(2)} llm=${this.faults.plan.llmRate.toFixed(2)} sick=${[...sick].join(",")}`);
    const total = rng.int(25, 45);
    for (let i = 0; i < total && this.clean(); i++) {
      const op = rng.weighted(OPERATIONS);
      const h = rng.pick(this.sessions);
      this.note(`${op} ${h.index}`);
      await this.watchdog(op, perform(this.operationContext, op, h));
      this.ops += 1;
      await this.actors.crashHung();
      await this.checkAll(this.actors.takeTouched());
    }
  }

  /** Every fault healed but the sick session's destination: the other sessions must finish anyway. */
  private async isolationPhase(): Promise<void> {
    const sick = this.faults.plan.sick;
    this.faults.plan = { ...HEALED, sick };
    this.note("isolation: healed all but the sick destination");
    const healthy = this.sessions.filter((h) => !sick.has(h.actor));
    const unfinished = await this.quiesce(healthy, this.sessions);
    for (const snap of unfinished) {
      this.violations.push({ invariant: "6-isolated", actor: snap.actor, message: `not finished while another session's destination fails: ${snap.busy.join(", ")}` });
    }
  }

  private async finalPhase(): Promise<void> {
    this.faults.plan = HEALED;
    this.note("final: healed everything");
    await this.quiesce(this.sessions, this.sessions);
    for (const h of this.sessions) await this.actors.settle(h.stub.flush());
    this.note("final: flushed");
    const unfinished = await this.quiesce(this.sessions, this.sessions);
    for (const snap of unfinished) {
      const h = this.sessions.find((s) => s.actor === snap.actor)!;
      this.violations.push({ invariant: "liveness", actor: snap.actor, message: `not quiescent after healing: ${snap.busy.join(", ")}; ${await this.actors.describe(h)}` });
    }
    await this.checkAll();
    for (const h of this.sessions) await this.finalCheck(h);
  }

  /** After a flush and quiescence everything accepted is covered by the one live summary. */
  private async finalCheck(h: SessionHandle): Promise<void> {
    const snap = await this.actors.snapshotOf(h, this.trace);
    const accepted = this.ledger.acceptedFor(h.actor);
    const uncovered = accepted.filter((t) => !snap.coverage.has(t));
    if (uncovered.length) {
      this.violations.push({ invariant: "2-nothing-lost", actor: h.actor, message: `${uncovered.length} accepted action(s) never covered: ${uncovered.slice(0, 4).join(", ")}` });
    }
    if (snap.liveRaw.size) this.violations.push({ invariant: "liveness", actor: h.actor, message: `${snap.liveRaw.size} covered action(s) still in raw notes` });
    const actions = this.client.acceptedActions(h);
    if (snap.actionsAccepted !== actions) {
      this.violations.push({ invariant: "3-exactly-once", actor: h.actor, message: `actor counted ${snap.actionsAccepted} actions accepted, client had ${actions} accepted` });
    }
    // Only the session row and the latest summary (its window and note) remain.
    const bound = accepted.length ? 3 : snap.exists ? 1 : 0;
    if (snap.rows > bound) this.violations.push({ invariant: "5-bounded", actor: h.actor, message: `${snap.rows} rows kept at rest (expected at most ${bound})` });
    if (snap.exists) {
      const state = await h.stub.state();
      const { threshold, mode } = this.config;
      if (state?.storage.rows !== snap.rows || state.llm_breaker === undefined || state.threshold !== threshold || state.mode !== mode) {
        this.violations.push({ invariant: "protocol", actor: h.actor, message: `state shows rows ${state?.storage.rows} (snapshot ${snap.rows}), K ${state?.threshold}/${threshold}, ${state?.mode}/${mode}, llm_breaker ${JSON.stringify(state?.llm_breaker)}` });
      }
    }
  }

  // ---- checking and settling -----------------------------------------------------------------

  private async checkAll(sessions = this.sessions): Promise<void> {
    for (const h of sessions) {
      const snap = await this.actors.snapshotOf(h, this.trace);
      this.violations.push(...checkSnapshot(snap, this.ledger, { threshold: this.config.threshold }));
    }
  }

  /**
   * Runs `sessions` to quiescence: backoffs made due, the breaker's pause waited out, alarms fired
   * (only where one is set, so a session that lost its alarm shows up as unfinished; one the
   * platform is running shows none, so a round that fired nothing waits a moment for those).
   * `alarms` also get their alarms fired, finished or not. Returns the sessions still busy.
   */
  private async quiesce(sessions: SessionHandle[], alarms: SessionHandle[]): Promise<ActorSnapshot[]> {
    let busy: ActorSnapshot[] = [];
    for (let round = 0; round < QUIESCE_ROUNDS; round++) {
      await this.actors.crashHung();
      busy = [];
      for (const h of sessions) {
        const snap = await this.actors.snapshotOf(h, this.trace);
        if (!snap.quiescent) busy.push(snap);
      }
      if (busy.length === 0) return [];
      const until = this.breaker.blockedUntil(Date.now());
      if (until !== null) await sleep(until - Date.now() + 1);
      const busyActors = new Set(busy.map((b) => b.actor));
      let fired = false;
      for (const h of alarms) {
        // A finished session needs no alarm; one outside `sessions` (the sick one) keeps failing meanwhile.
        if (sessions.includes(h) && !busyActors.has(h.actor)) continue;
        if (!sessions.includes(h) || (busy.find((b) => b.actor === h.actor)?.steps ?? 0) > 0) await this.actors.makeDue(h);
        if (await this.actors.alarm(h)) fired = true;
      }
      if (!fired) await sleep(QUIESCE_PAUSE_MS);
      await this.checkAll(this.actors.takeTouched());
      if (!this.clean()) return [];
    }
    return busy;
  }

  private async watchdog(op: string, work: Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`operation ${op} did not finish in ${OP_WATCHDOG_MS} ms; requests in flight: ${[...this.world.inFlight.values()].join("; ") || "none"}; trace:\n${this.trace.join("\n")}`)), OP_WATCHDOG_MS);
    });
    try {
      await Promise.race([work, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async cleanup(): Promise<void> {
    await this.actors.crashHung();
    // Erased so that nothing of this seed lingers in the isolate (each test file shares storage).
    for (const h of this.sessions) await this.actors.settle(stubFor(h.productId, h.sessionId).erase());
  }

  private result(): SeedResult {
    const covered = this.sessions.reduce((n, h) => n + this.ledger.acceptedFor(h.actor).filter((t) => this.world.receiver.liveCoverage(h.actor).has(t)).length, 0);
    return {
      seed: this.seed,
      ops: this.ops,
      sessions: this.sessions.length,
      faults: Object.fromEntries(this.world.injected),
      violations: this.allViolations(),
      accepted: this.sessions.reduce((n, h) => n + this.ledger.acceptedFor(h.actor).length, 0),
      covered,
      crashes: this.actors.stats.crashes,
      evictions: this.actors.stats.evictions,
      breakerOpens: this.breakerOpens,
      llmCalls: this.world.llm.calls,
      redeliveries: this.world.receiver.redeliveries,
      trace: this.trace,
    };
  }
}

/** Runs one seed of the campaign (against a deliberately broken build's wire, if given). */
export function runSeed(seed: number, outbound?: Outbound): Promise<SeedResult> {
  return new Campaign(seed, outbound).run();
}
