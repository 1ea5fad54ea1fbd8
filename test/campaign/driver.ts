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
import { loadConfig, need, readWebhookSettings } from "../../src/config";
import { CircuitBreaker, probeLeaseMs, sharedBreaker } from "../../src/llm/breaker";
import { auth, postActions, request, sessionPath, stubFor } from "../helpers/api";
import { Actors, sleep, type SessionHandle } from "./actors";
import { settingsSuffix } from "./campaignWorker";
import { checkSnapshot, type ActorSnapshot } from "./invariants";
import { Ledger, token } from "./ledger";
import { Rng } from "./prng";
import { Receiver, type Violation } from "./receiver";
import { HEALED, World } from "./world";

export const MAX_BATCH = 3;
/**
 * In seeds `fromSeed`..`toSeed`, now and then an oversized batch: many actions with 4 KB
 * descriptions (two still fit a 1 MiB body), which must not make a prompt carry more than O(K)
 * actions. `npm run campaign -- --first 1001 --seeds 200` runs part of that range; the teeth
 * test's seeds (10001 on) stay outside it.
 */
const OVERSIZED_BATCH = { fromSeed: 1001, toSeed: 1999, chance: 0.04, min: 40, max: 100, descriptionChars: 4_000 };
/** Ids the service must refuse whole (422): they could never be addressed, or would be altered in storage. */
const UNUSABLE_ID_SUFFIXES = ["\ud800", "\udfff", "\u0085", "\u0000"];
const MAX_POST_TRIES = 12;
const QUIESCE_ROUNDS = 40;
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

interface SentRequest {
  body: unknown;
  headers: Record<string, string>;
  items: BatchRecord[];
}

interface BatchRecord {
  session: SessionHandle;
  tokens: string[];
  /** Each description padded to OVERSIZED_BATCH.descriptionChars. */
  oversized: boolean;
  accepted: boolean;
  /** Answers that said "not a duplicate": more than one means the batch was applied twice. */
  applied: number;
}

export class Campaign {
  readonly rng: Rng;
  readonly ledger = new Ledger();
  readonly receiver: Receiver;
  readonly world: World;
  readonly sessions: SessionHandle[] = [];
  private readonly config = need(loadConfig(env).core);
  private readonly breaker: CircuitBreaker;
  private readonly sent: SentRequest[] = [];
  private readonly violations: Violation[] = [];
  private readonly trace: string[] = [];
  private readonly actors: Actors;
  private breakerOpens = 0;
  private ops = 0;

  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
    this.receiver = new Receiver(this.ledger, readWebhookSettings(env).key);
    this.world = new World({
      seed,
      ledger: this.ledger,
      receiver: this.receiver,
      maxPromptActions: (actor) => (this.sessions.find((h) => h.actor === actor)?.threshold ?? 1) - 1 + MAX_BATCH,
      actorIndex: (actor) => this.sessions.findIndex((h) => h.actor === actor),
    });
    const { llm } = this.config;
    this.breaker = sharedBreaker({ failureThreshold: llm.breakerFailures, pauseMs: llm.breakerPauseMs, probeLeaseMs: probeLeaseMs(llm.timeoutMs) });
    const run = crypto.randomUUID().slice(0, 6);
    const count = this.rng.int(2, 4);
    for (let index = 0; index < count; index++) {
      const productId = index % 2 === 0 ? "p-alpha" : "p-beta";
      const threshold = this.rng.int(2, 6);
      const mode = this.rng.chance(0.3) ? "independent" : "rolling";
      const sessionId = `c${seed}-${index}-${run}${settingsSuffix(threshold, mode)}`;
      const actor = `${productId}:${sessionId}`;
      this.sessions.push({ index, productId, sessionId, actor, stub: stubFor(productId, sessionId), threshold, mode, nextToken: 1, owed: false });
    }
    this.actors = new Actors(this.sessions, this.world, this.receiver);
  }

  /** Runs the whole seed with the fakes installed; always uninstalls them. */
  async run(): Promise<SeedResult> {
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => this.world.fetch(input, init));
    const acquire = vi.spyOn(this.breaker, "tryAcquire").mockImplementation((now: number) => {
      const ticket = CircuitBreaker.prototype.tryAcquire.call(this.breaker, now);
      if (ticket) this.world.llmTickets += 1;
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
    return [...this.violations, ...this.receiver.violations, ...this.world.violations];
  }

  private note(line: string): void {
    this.trace.push(line);
    if (this.trace.length > 40) this.trace.shift();
  }

  // ---- phases --------------------------------------------------------------------------------

  private async faultPhase(): Promise<void> {
    const { rng } = this;
    const sick = this.sessions.length > 2 || rng.chance(0.6) ? new Set([rng.pick(this.sessions).actor]) : new Set<string>();
    this.world.plan = { destRate: 0.1 + rng.float() * 0.4, llmRate: 0.1 + rng.float() * 0.5, sick };
    this.note(`plan dest=${this.world.plan.destRate.toFixed(2)} llm=${this.world.plan.llmRate.toFixed(2)} sick=${[...sick].join(",")}`);
    const total = rng.int(25, 45);
    for (let i = 0; i < total && this.clean(); i++) {
      const op = rng.weighted([
        ["post", 30],
        ["post-concurrent", 8],
        ["post-array", 4],
        ["post-unusable-id", 3],
        ["repost", 6],
        ["repost-concurrent", 4],
        ["alarm", 30],
        ["alarm+ingest", 8],
        ["alarm+crash", 3],
        ["evict", 3],
        ["crash", 3],
        ["flush", 3],
        ["steps-due", 10],
        ["weather", 4],
        ["state", 2],
      ] as const);
      const h = rng.pick(this.sessions);
      this.note(`${op} ${h.index}`);
      await this.watchdog(op, this.perform(op, h));
      this.ops += 1;
      await this.actors.crashHung();
      await this.checkAll(this.actors.takeTouched());
    }
  }

  /** Every fault healed but the sick session's destination: the other sessions must finish anyway. */
  private async isolationPhase(): Promise<void> {
    const sick = this.world.plan.sick;
    this.world.plan = { ...HEALED, sick };
    this.note("isolation: healed all but the sick destination");
    const healthy = this.sessions.filter((h) => !sick.has(h.actor));
    const unfinished = await this.quiesce(healthy, this.sessions);
    for (const snap of unfinished) {
      this.violations.push({ invariant: "6-isolated", actor: snap.actor, message: `not finished while another session's destination fails: ${snap.busy.join(", ")}` });
    }
  }

  private async finalPhase(): Promise<void> {
    this.world.plan = HEALED;
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
    const actions = this.sent.flatMap((r) => r.items).filter((b) => b.session === h && b.accepted).reduce((n, b) => n + b.tokens.length, 0);
    if (snap.actionsAccepted !== actions) {
      this.violations.push({ invariant: "3-exactly-once", actor: h.actor, message: `actor counted ${snap.actionsAccepted} actions accepted, client had ${actions} accepted` });
    }
    // Only the session row and the latest summary (its window and note) remain.
    const bound = accepted.length ? 3 : snap.exists ? 1 : 0;
    if (snap.rows > bound) this.violations.push({ invariant: "5-bounded", actor: h.actor, message: `${snap.rows} rows kept at rest (expected at most ${bound})` });
    if (snap.exists) {
      const state = await h.stub.state();
      if (state?.storage.rows !== snap.rows || state.llm_breaker === undefined || state.threshold !== h.threshold || state.mode !== h.mode) {
        this.violations.push({ invariant: "protocol", actor: h.actor, message: `state shows rows ${state?.storage.rows} (snapshot ${snap.rows}), K ${state?.threshold}/${h.threshold}, ${state?.mode}/${h.mode}, llm_breaker ${JSON.stringify(state?.llm_breaker)}` });
      }
    }
  }

  // ---- operations ----------------------------------------------------------------------------

  private async perform(op: string, h: SessionHandle): Promise<void> {
    const { rng } = this;
    switch (op) {
      case "post":
        return this.post([this.newBatch(h)], { idempotencyKey: rng.chance(0.3) });
      case "post-concurrent": {
        const n = rng.int(2, 3);
        await Promise.all(Array.from({ length: n }, () => this.post([this.newBatch(rng.chance(0.5) ? h : rng.pick(this.sessions))], {})));
        return;
      }
      case "post-array": {
        const other = rng.pick(this.sessions);
        return this.post([this.newBatch(h), this.newBatch(other)], { idempotencyKey: rng.chance(0.5) });
      }
      case "post-unusable-id":
        return this.postUnusableId(h);
      case "repost": {
        const previous = this.sent.slice(-8).filter((r) => r.items.every((b) => b.accepted));
        if (previous.length) return this.repost(rng.pick(previous), true);
        return;
      }
      case "repost-concurrent": {
        const sent = this.prepare([this.newBatch(h)], { idempotencyKey: rng.chance(0.5) });
        await Promise.all([this.repost(sent, false), this.repost(sent, false)]);
        return;
      }
      case "alarm":
        return this.actors.alarm(h);
      case "alarm+ingest": {
        const alarm = this.actors.alarm(h);
        await this.post([this.newBatch(h)], {});
        await alarm;
        return;
      }
      case "alarm+crash": {
        const alarm = this.actors.alarm(h);
        await sleep(rng.int(0, 3));
        await this.actors.crash(h);
        await alarm;
        return;
      }
      case "evict":
        return this.actors.evict(h);
      case "crash":
        return this.actors.crash(h);
      case "flush":
        return this.flush(h);
      case "steps-due":
        return this.actors.makeDue(h);
      case "state":
        return this.readState(h);
      case "weather":
        return this.changeWeather();
    }
  }

  /** New fault rates: calm, stormy, or an outage (every call fails) of the LLM or the destination. */
  private changeWeather(): void {
    const { rng } = this;
    const rate = () => rng.weighted([[0, 2], [0.1 + rng.float() * 0.5, 5], [1, 2]] as const);
    this.world.plan = { ...this.world.plan, destRate: rate(), llmRate: rate() };
    this.note(`weather dest=${this.world.plan.destRate.toFixed(2)} llm=${this.world.plan.llmRate.toFixed(2)}`);
  }

  private newBatch(h: SessionHandle): BatchRecord {
    const oversized = this.seed >= OVERSIZED_BATCH.fromSeed && this.seed <= OVERSIZED_BATCH.toSeed && this.rng.chance(OVERSIZED_BATCH.chance);
    const size = oversized ? this.rng.int(OVERSIZED_BATCH.min, OVERSIZED_BATCH.max) : this.rng.int(1, MAX_BATCH);
    const tokens = Array.from({ length: size }, () => token(h.index, h.nextToken++));
    return { session: h, tokens, oversized, accepted: false, applied: 0 };
  }

  private payloadOf(b: BatchRecord, sessionId = b.session.sessionId) {
    return {
      type: "actions",
      product_id: b.session.productId,
      session_id: sessionId,
      actions: b.tokens.map((t, i) => ({
        title: `Step ${t}`,
        description: b.oversized ? `opened ${t} `.padEnd(OVERSIZED_BATCH.descriptionChars, "x") : `opened ${t}`,
        canonical_url: `https://app.example.com/page/${i % 3}`,
        type: "click",
        index: i,
        timestamp_start: 1_700_000_000,
      })),
    };
  }

  /**
   * A good batch next to one whose session id is unusable (a lone surrogate, a control character):
   * the whole request must be refused with 422 before any actor is reached, so neither batch is
   * ever applied (the final count of accepted actions would show it). Not recorded as sent.
   */
  private async postUnusableId(h: SessionHandle): Promise<void> {
    const unusable = `${h.sessionId}${this.rng.pick(UNUSABLE_ID_SUFFIXES)}`;
    const body = [this.payloadOf(this.newBatch(h)), this.payloadOf(this.newBatch(h), unusable)];
    const res = await this.actors.settle(postActions(body));
    if (res.ok && res.value.status !== 422) {
      this.violations.push({ invariant: "protocol", actor: h.actor, message: `a batch for session ${JSON.stringify(unusable)} answered ${res.value.status}, not 422` });
    }
  }

  private prepare(items: BatchRecord[], opts: { idempotencyKey?: boolean }): SentRequest {
    const payloads = items.map((b) => this.payloadOf(b));
    const headers: Record<string, string> = opts.idempotencyKey ? { "idempotency-key": `k-${items[0]!.tokens[0]}` } : {};
    const sent = { body: items.length === 1 && this.rng.chance(0.7) ? payloads[0] : payloads, headers, items };
    this.sent.push(sent);
    return sent;
  }

  private post(items: BatchRecord[], opts: { idempotencyKey?: boolean }): Promise<void> {
    return this.repost(this.prepare(items, opts), false);
  }

  /** Sends a request until it is answered 202 (a crashed actor answers 5xx; clients retry). */
  private async repost(sent: SentRequest, expectDuplicate: boolean): Promise<void> {
    for (const b of sent.items) {
      this.ledger.sent(b.tokens, b.session.actor);
      this.actors.touch(b.session);
    }
    for (let attempt = 0; attempt < MAX_POST_TRIES; attempt++) {
      const res = await this.actors.settle(postActions(sent.body, sent.headers));
      if (!res.ok || res.value.status !== 202) {
        if (res.ok && res.value.status < 500) throw new Error(`POST answered ${res.value.status}: ${await res.value.text()}`);
        continue;
      }
      const { accepted } = (await res.value.json()) as { accepted: { duplicate: boolean }[] };
      sent.items.forEach((b, i) => {
        const duplicate = accepted[i]?.duplicate === true;
        if (!duplicate) b.applied += 1;
        if (b.applied > 1) this.violations.push({ invariant: "3-exactly-once", actor: b.session.actor, message: `batch ${b.tokens[0]} applied twice` });
        if (expectDuplicate && !duplicate) {
          this.violations.push({ invariant: "3-exactly-once", actor: b.session.actor, message: `retried POST of ${b.tokens[0]} not recognised as a duplicate` });
        }
        b.accepted = true;
        this.ledger.accepted(b.tokens);
      });
      return;
    }
    throw new Error(`POST not accepted after ${MAX_POST_TRIES} tries`);
  }

  private async flush(h: SessionHandle): Promise<void> {
    this.actors.touch(h);
    for (let attempt = 0; attempt < MAX_POST_TRIES; attempt++) {
      const res = await this.actors.settle(request(sessionPath(h.productId, h.sessionId, "/flush"), { method: "POST", headers: auth }));
      if (res.ok && (res.value.status === 202 || res.value.status === 404)) return;
    }
    throw new Error("flush not accepted");
  }

  /** The state JSON answers for its own product only; another product gets 404. */
  private async readState(h: SessionHandle): Promise<void> {
    const other = h.productId === "p-alpha" ? "p-beta" : "p-alpha";
    const res = await this.actors.settle(request(sessionPath(other, h.sessionId), { headers: auth }));
    if (res.ok && res.value.status !== 404) {
      this.violations.push({ invariant: "6-isolated", actor: h.actor, message: `${other} read ${h.actor}'s state (${res.value.status})` });
    }
  }

  // ---- checking and settling -----------------------------------------------------------------

  private async checkAll(sessions = this.sessions): Promise<void> {
    for (const h of sessions) {
      const snap = await this.actors.snapshotOf(h, this.trace);
      this.violations.push(...checkSnapshot(snap, this.ledger, { threshold: h.threshold }));
    }
  }

  /**
   * Runs `sessions` to quiescence: backoffs made due, the breaker's pause waited out, alarms fired
   * (only where one is set or owed, so a session that lost its alarm shows up as unfinished).
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
      for (const h of alarms) {
        // A finished session needs no alarm; one outside `sessions` (the sick one) keeps failing meanwhile.
        if (sessions.includes(h) && !busyActors.has(h.actor)) continue;
        if (!sessions.includes(h) || (busy.find((b) => b.actor === h.actor)?.steps ?? 0) > 0) await this.actors.makeDue(h);
        await this.actors.alarm(h);
      }
      await this.checkAll(this.actors.takeTouched());
      if (!this.clean()) return [];
    }
    return busy;
  }

  private async watchdog(op: string, work: Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`operation ${op} did not finish in ${OP_WATCHDOG_MS} ms; trace:\n${this.trace.join("\n")}`)), OP_WATCHDOG_MS);
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
    const covered = this.sessions.reduce((n, h) => n + this.ledger.acceptedFor(h.actor).filter((t) => this.receiver.liveCoverage(h.actor).has(t)).length, 0);
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
      llmCalls: this.world.llmCalls,
      redeliveries: this.receiver.redeliveries,
      trace: this.trace,
    };
  }
}

/** Runs one seed of the campaign. */
export function runSeed(seed: number): Promise<SeedResult> {
  return new Campaign(seed).run();
}
