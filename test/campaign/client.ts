/**
 * The campaign's client: it sends batches of unique tokens as a product would (one or several
 * per request, with and without an Idempotency-Key), retries a request until it is answered 202
 * (a crashed actor answers 5xx), records in the ledger when each token was first sent and first
 * acknowledged, and reports a batch the Worker applied twice.
 */
import type { Violation } from "../world";
import { token, type Ledger } from "../world/ledger";
import type { Rng } from "../world/prng";
import { auth, postActions, request, sessionPath } from "../helpers/api";
import type { Actors, SessionHandle } from "./actors";

export const MAX_BATCH = 3;
const MAX_POST_TRIES = 12;
/**
 * In seeds `fromSeed`..`toSeed`, now and then an oversized batch: many actions with 4 KB
 * descriptions (two still fit a 1 MiB body), which must not make a prompt carry more than O(K)
 * actions. `npm run campaign -- --first 1001 --seeds 200` runs part of that range; the teeth
 * test's seeds (10001 on) stay outside it.
 */
const OVERSIZED_BATCH = { fromSeed: 1001, toSeed: 1999, chance: 0.04, min: 40, max: 100, descriptionChars: 4_000 };
/** Ids the service must refuse whole (422): they could never be addressed, or would be altered in storage. */
const UNUSABLE_ID_SUFFIXES = ["\ud800", "\udfff", "\u0085", "\u0000"];

export interface SentRequest {
  body: unknown;
  headers: Record<string, string>;
  items: BatchRecord[];
}

export interface BatchRecord {
  session: SessionHandle;
  tokens: string[];
  /** Each description padded to OVERSIZED_BATCH.descriptionChars. */
  oversized: boolean;
  accepted: boolean;
  /** Answers that said "not a duplicate": more than one means the batch was applied twice. */
  applied: number;
}

export class Client {
  readonly sent: SentRequest[] = [];
  private readonly rng: Rng;
  private readonly ledger: Ledger;
  private readonly actors: Actors;
  private readonly violations: Violation[];
  private readonly seed: number;

  constructor(rng: Rng, ledger: Ledger, actors: Actors, violations: Violation[], seed: number) {
    this.seed = seed;
    this.rng = rng;
    this.ledger = ledger;
    this.actors = actors;
    this.violations = violations;
  }

  /** Actions of `h` the Worker acknowledged. */
  acceptedActions(h: SessionHandle): number {
    return this.sent.flatMap((r) => r.items).filter((b) => b.session === h && b.accepted).reduce((n, b) => n + b.tokens.length, 0);
  }

  /** The most actions one batch of this seed can hold. */
  static maxBatch(seed: number): number {
    return seed >= OVERSIZED_BATCH.fromSeed && seed <= OVERSIZED_BATCH.toSeed ? OVERSIZED_BATCH.max : MAX_BATCH;
  }

  newBatch(h: SessionHandle): BatchRecord {
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
  async postUnusableId(h: SessionHandle): Promise<void> {
    const unusable = `${h.sessionId}${this.rng.pick(UNUSABLE_ID_SUFFIXES)}`;
    const body = [this.payloadOf(this.newBatch(h)), this.payloadOf(this.newBatch(h), unusable)];
    const res = await this.actors.settle(postActions(body));
    if (res.ok && res.value.status !== 422) {
      this.violations.push({ invariant: "protocol", actor: h.actor, message: `a batch for session ${JSON.stringify(unusable)} answered ${res.value.status}, not 422` });
    }
  }

  prepare(items: BatchRecord[], opts: { idempotencyKey?: boolean }): SentRequest {
    const payloads = items.map((b) => this.payloadOf(b));
    const headers: Record<string, string> = opts.idempotencyKey ? { "idempotency-key": `k-${items[0]!.tokens[0]}` } : {};
    const sent = { body: items.length === 1 && this.rng.chance(0.7) ? payloads[0] : payloads, headers, items };
    this.sent.push(sent);
    return sent;
  }

  post(items: BatchRecord[], opts: { idempotencyKey?: boolean }): Promise<void> {
    return this.repost(this.prepare(items, opts), false);
  }

  /** Sends a request until it is answered 202 (a crashed actor answers 5xx; clients retry). */
  async repost(sent: SentRequest, expectDuplicate: boolean): Promise<void> {
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

  async flush(h: SessionHandle): Promise<void> {
    this.actors.touch(h);
    for (let attempt = 0; attempt < MAX_POST_TRIES; attempt++) {
      const res = await this.actors.settle(request(sessionPath(h.productId, h.sessionId, "/flush"), { method: "POST", headers: auth }));
      if (res.ok && (res.value.status === 202 || res.value.status === 404)) return;
    }
    throw new Error("flush not accepted");
  }

  /** The state JSON answers for its own product only; another product gets 404. */
  async readState(h: SessionHandle): Promise<void> {
    const other = h.productId === "p-alpha" ? "p-beta" : "p-alpha";
    const res = await this.actors.settle(request(sessionPath(other, h.sessionId), { headers: auth }));
    if (res.ok && res.value.status !== 404) {
      this.violations.push({ invariant: "6-isolated", actor: h.actor, message: `${other} read ${h.actor}'s state (${res.value.status})` });
    }
  }
}
