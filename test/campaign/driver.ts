/**
 * The fault campaign's driver: one seed runs several sessions (two products) through a random
 * interleaving of ingest (duplicates and concurrent POSTs included), alarms, graceful eviction,
 * crashes at any await (an actor aborted while a request of it hangs), flushes and backoffs made
 * due, while the LLM and one of each session's two destinations misbehave (the other is healthy:
 * `destinations.ts`); then it heals every fault but one session's faulty destination (the other
 * sessions, and that session's healthy lane, must finish regardless), heals that too, flushes,
 * runs to quiescence, and checks every invariant per lane after each operation and at the end.
 */
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { loadConfig, need } from "../../src/config";
import { CircuitBreaker, llmBreaker } from "../../src/llm/breaker";
import { MAX_WINDOWS_PER_CALL } from "../../src/session/steps/summarise";
import { stubFor } from "../helpers/api";
import { createWorld, destinationOf, type Violation, type World } from "../world";
import { HEALED, seededFaults, type DestCall } from "../world/faults";
import { Ledger } from "../world/ledger";
import { Rng } from "../world/prng";
import { Actors, sleep, type SessionHandle } from "./actors";
import { Client } from "./client";
import { configureProducts, DESTINATION_URLS, FAULTY, PRODUCT_DESTINATIONS } from "./destinations";
import { checkAtRest, checkLaneCurrent, checkSnapshot } from "./invariants";
import { OPERATIONS, perform, type OperationContext } from "./operations";
import { busyExcept, type ActorSnapshot } from "./snapshot";

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
  /** Sessions × destinations. */
  lanes: number;
  faults: Record<string, number>;
  violations: Violation[];
  accepted: number;
  /** Accepted actions covered by a live summary in every lane of their session. */
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
    // Keyed by the actor's place in the seed, the destination and the webhook-id without the
    // actor's random epoch ({epoch}-n{id}), so a seed replays the same faults.
    const identity = (call: DestCall) => `${this.sessions.findIndex((h) => h.actor === call.actor)}|${call.destination}|${call.webhookId.replace(/^[^-]*-/, "")}`;
    this.faults = seededFaults(seed, identity, FAULTY);
    this.world = createWorld({
      secret: env.WEBHOOK_SECRET,
      destinations: DESTINATION_URLS,
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
      const destinations = PRODUCT_DESTINATIONS[productId]!.map(destinationOf);
      this.sessions.push({ index, productId, sessionId, actor, destinations, stub: stubFor(productId, sessionId), nextToken: 1, running: 0 });
    }
    this.actors = new Actors(this.sessions, this.world, this.config.mode === "rolling");
    this.client = new Client(this.rng, this.ledger, this.actors, this.violations, seed);
    this.operationContext = { rng: this.rng, sessions: this.sessions, client: this.client, actors: this.actors, faults: this.faults, note: (line) => this.note(line) };
  }

  /** Runs the whole seed with the fakes installed; always uninstalls them. */
  async run(): Promise<SeedResult> {
    await configureProducts();
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
    // One session's faulty destination fails every request: the isolation phase keeps it failing.
    const sick = new Set([rng.pick(this.sessions).actor]);
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

  /**
   * Every fault healed but the sick session's faulty destination: the other sessions must finish
   * anyway, and so must the sick session's healthy lane, which must then hold everything accepted.
   */
  private async isolationPhase(): Promise<void> {
    const sick = this.faults.plan.sick;
    this.faults.plan = { ...HEALED, sick };
    this.note("isolation: healed all but the sick session's faulty destination");
    const targets = this.sessions.map((h) => ({ h, except: sick.has(h.actor) ? FAULTY : null }));
    const unfinished = await this.quiesce(targets);
    for (const snap of unfinished) {
      const why = sick.has(snap.actor) ? "while its other lane's destination fails" : "while another session's destination fails";
      this.violations.push({ invariant: "6-isolated", actor: snap.actor, message: `not finished ${why}: ${busyExcept(snap, targets.find((t) => t.h.actor === snap.actor)!.except).join(", ")}` });
    }
    if (!this.clean()) return;
    for (const h of this.sessions.filter((s) => sick.has(s.actor))) {
      const snap = await this.actors.snapshotOf(h, this.trace);
      for (const d of h.destinations.filter((d) => d !== FAULTY)) this.violations.push(...checkLaneCurrent(snap, this.ledger, d));
    }
  }

  private async finalPhase(): Promise<void> {
    this.faults.plan = HEALED;
    this.note("final: healed everything");
    const everything = this.sessions.map((h) => ({ h, except: null }));
    await this.quiesce(everything);
    for (const h of this.sessions) await this.actors.settle(h.stub.flush());
    this.note("final: flushed");
    const unfinished = await this.quiesce(everything);
    for (const snap of unfinished) {
      const h = this.sessions.find((s) => s.actor === snap.actor)!;
      this.violations.push({ invariant: "liveness", actor: snap.actor, message: `not quiescent after healing: ${snap.busy.join(", ")}; ${await this.actors.describe(h)}` });
    }
    await this.checkAll();
    for (const h of this.sessions) await this.finalCheck(h);
  }

  /** After a flush and quiescence, in every lane, everything accepted is covered by its live summaries. */
  private async finalCheck(h: SessionHandle): Promise<void> {
    const snap = await this.actors.snapshotOf(h, this.trace);
    const state = snap.exists ? await h.stub.state() : null;
    this.violations.push(...checkAtRest(snap, this.ledger, this.client.acceptedActions(h), state, this.config));
  }

  // ---- checking and settling -----------------------------------------------------------------

  private async checkAll(sessions = this.sessions): Promise<void> {
    for (const h of sessions) {
      const snap = await this.actors.snapshotOf(h, this.trace);
      this.violations.push(...checkSnapshot(snap, this.ledger, { threshold: this.config.threshold }));
    }
  }

  /**
   * Runs every session to quiescence, each but its `except` lane (whose destination keeps
   * failing meanwhile): backoffs made due, the breaker's pause waited out, alarms fired (only
   * where one is set, so a session that lost its alarm shows up as unfinished; one the platform
   * is running shows none, so a round that fired nothing waits a moment for those). Returns the
   * sessions still busy.
   */
  private async quiesce(targets: { h: SessionHandle; except: string | null }[]): Promise<ActorSnapshot[]> {
    let busy: ActorSnapshot[] = [];
    for (let round = 0; round < QUIESCE_ROUNDS; round++) {
      await this.actors.crashHung();
      busy = [];
      for (const { h, except } of targets) {
        const snap = await this.actors.snapshotOf(h, this.trace);
        if (busyExcept(snap, except).length) busy.push(snap);
      }
      if (busy.length === 0) return [];
      const until = this.breaker.blockedUntil(Date.now());
      if (until !== null) await sleep(until - Date.now() + 1);
      let fired = false;
      for (const { h, except } of targets) {
        const snap = busy.find((b) => b.actor === h.actor);
        // A finished session needs no alarm; one whose faulty lane is left failing keeps trying it.
        if (!snap && except === null) continue;
        if (except !== null || (snap?.steps ?? 0) > 0) await this.actors.makeDue(h);
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
    const coveredEverywhere = (h: SessionHandle) => {
      const lanes = h.destinations.map((d) => this.world.receivers.get(d)!.liveCoverage(h.actor));
      return this.ledger.acceptedFor(h.actor).filter((t) => lanes.every((c) => c.has(t))).length;
    };
    return {
      seed: this.seed,
      ops: this.ops,
      sessions: this.sessions.length,
      lanes: this.sessions.reduce((n, h) => n + h.destinations.length, 0),
      faults: Object.fromEntries(this.world.injected),
      violations: this.allViolations(),
      accepted: this.sessions.reduce((n, h) => n + this.ledger.acceptedFor(h.actor).length, 0),
      covered: this.sessions.reduce((n, h) => n + coveredEverywhere(h), 0),
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
