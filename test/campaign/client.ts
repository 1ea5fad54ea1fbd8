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

export interface SentRequest {
  body: unknown;
  headers: Record<string, string>;
  items: BatchRecord[];
}

export interface BatchRecord {
  session: SessionHandle;
  tokens: string[];
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

  constructor(rng: Rng, ledger: Ledger, actors: Actors, violations: Violation[]) {
    this.rng = rng;
    this.ledger = ledger;
    this.actors = actors;
    this.violations = violations;
  }

  /** Actions of `h` the Worker acknowledged. */
  acceptedActions(h: SessionHandle): number {
    return this.sent.flatMap((r) => r.items).filter((b) => b.session === h && b.accepted).reduce((n, b) => n + b.tokens.length, 0);
  }

  newBatch(h: SessionHandle): BatchRecord {
    const size = this.rng.int(1, MAX_BATCH);
    const tokens = Array.from({ length: size }, () => token(h.index, h.nextToken++));
    return { session: h, tokens, accepted: false, applied: 0 };
  }

  prepare(items: BatchRecord[], opts: { idempotencyKey?: boolean }): SentRequest {
    const payloads = items.map((b) => ({
      type: "actions",
      product_id: b.session.productId,
      session_id: b.session.sessionId,
      actions: b.tokens.map((t, i) => ({
        title: `Step ${t}`,
        description: `opened ${t}`,
        canonical_url: `https://app.example.com/page/${i % 3}`,
        type: "click",
        index: i,
        timestamp_start: 1_700_000_000,
      })),
    }));
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
