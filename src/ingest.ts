/**
 * @module
 * The one way events enter the system, whatever their source (Autoplay, PostHog, Segment):
 * hand each session's batch to its actor. The actor writes durably and arms its alarm; no
 * destination or LLM call happens on this path.
 */
import { loadConfig, need } from "./config";
import { ApiError } from "./http/errors";
import { addFootprints, exceedsBound, footprintOf, type Footprint } from "./session/backlog";
import type { Dedupe } from "./session/dedupe";
import type { ActionsPayload } from "./session/model";

export interface IngestItem {
  /** A validated batch with non-empty `product_id` and `session_id`. */
  payload: ActionsPayload;
  /** Makes a retried delivery a no-op: an Idempotency-Key, the event ids, or the content hash. */
  dedupe: Dedupe;
}

export interface IngestResult {
  product_id: string;
  session_id: string;
  /** Actions this batch stored (0 for a duplicate). */
  actions: number;
  /** Nothing of it was new: it had been applied before. */
  duplicate: boolean;
}

export interface IngestAnswer {
  accepted: IngestResult[];
  /** Source events dropped because this session had applied them already. */
  seenEvents: number;
}

const KEY_REUSED = "Idempotency-Key was already used with a different body; nothing of this request was stored (use a new key for new data)";

/** The actor name carries the product, so one product can never address another's session. */
export function actorName(productId: string, sessionId: string): string {
  return `${productId}:${sessionId}`;
}

/** Throws the core `ConfigError` (503 `misconfigured`): an actor could not start without those settings. */
export function sessionStub(env: Env, productId: string, sessionId: string) {
  need(loadConfig(env).core);
  return env.SESSION.getByName(actorName(productId, sessionId));
}

/** SHA-256 (hex) of a string: content-derived dedupe keys and constant-length secret comparison. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Item indexes by actor, in request order. */
function groupBySession(items: readonly IngestItem[]): number[][] {
  const bySession = new Map<string, number[]>();
  items.forEach((item, i) => {
    const name = actorName(item.payload.product_id, item.payload.session_id!);
    bySession.set(name, [...(bySession.get(name) ?? []), i]);
  });
  return [...bySession.values()];
}

/**
 * A request with an Idempotency-Key that spans several sessions asks each of them first, so a
 * key reused with another body is refused before any session applies anything. (One session
 * decides atomically in its own ingest.) The limit: two requests racing with the same key and
 * different bodies can both pass this check; the loser's ingest then refuses in each session
 * that saw the winner, so that request can be partly applied, and still answers 409.
 */
async function refuseReusedKey(env: Env, items: readonly IngestItem[], sessions: number[][]): Promise<void> {
  if (sessions.length < 2) return;
  const verdicts = await Promise.all(
    sessions.map(([first]) => {
      const { payload, dedupe } = items[first!]!;
      if (dedupe.kind !== "idempotency") return "new";
      return sessionStub(env, payload.product_id, payload.session_id!).idempotencyVerdict(dedupe.key, dedupe.fingerprint);
    }),
  );
  if (verdicts.includes("conflict")) throw new ApiError(409, "idempotency_key_reused", KEY_REUSED);
}

/** 429 `session_backlog`: the sender retries after `Retry-After` and finds room once summaries are posted. */
function backlogError(refused: readonly { sessionId: string; retryAfterMs: number }[]): ApiError {
  const seconds = Math.ceil(Math.max(...refused.map((r) => r.retryAfterMs)) / 1000);
  const message =
    `session ${JSON.stringify(refused[0]!.sessionId)} holds as many actions as it may until its summaries are posted ` +
    `(SESSION_MAX_PENDING_ACTIONS, SESSION_MAX_PENDING_BYTES); retry after ${seconds} s`;
  return new ApiError(429, "session_backlog", message, { "retry-after": String(seconds) });
}

/**
 * Checks every session's room for its share of the request before anything is applied, so a
 * refused request stores nothing: 413 when a session's share alone is over the bound (waiting
 * can never help, so it is not a 429), 429 when its backlog is too full now. One batch needs no
 * pre-check: the actor checks it in the transaction that would store it.
 */
async function checkRoom(env: Env, items: readonly IngestItem[], sessions: number[][]): Promise<void> {
  if (items.length < 2) return;
  const { maxPendingActions, maxPendingBytes } = need(loadConfig(env).core);
  const shares = sessions.map((indexes) => {
    const { payload } = items[indexes[0]!]!;
    const share = indexes.reduce<Footprint>((sum, i) => addFootprints(sum, footprintOf(items[i]!.payload.actions)), { actions: 0, bytes: 0 });
    return { payload, share };
  });
  const tooLarge = shares.find(({ share }) => exceedsBound(share, { maxPendingActions, maxPendingBytes }));
  if (tooLarge) {
    throw new ApiError(
      413,
      "session_request_too_large",
      `this request holds ${tooLarge.share.actions} actions (${tooLarge.share.bytes} bytes) for session ${JSON.stringify(tooLarge.payload.session_id)}; a session holds at most ${maxPendingActions} actions (${maxPendingBytes} bytes) not yet summarised: split it`,
    );
  }
  const refused = (
    await Promise.all(
      shares.map(async ({ payload, share }) => {
        const full = await sessionStub(env, payload.product_id, payload.session_id!).backlogFull(share);
        return full ? [{ sessionId: payload.session_id!, retryAfterMs: full.retryAfterMs }] : [];
      }),
    )
  ).flat();
  if (refused.length > 0) throw backlogError(refused);
}

/**
 * Sends every item to its session's actor, sessions in parallel, items of one session in order.
 * All items have been validated first, and every session's room and Idempotency-Key checked, so a
 * bad item, a full session or a reused key never leaves a half-applied request. Only a race
 * (another request filling a session, or reusing the key, between the check and the write) can
 * refuse a batch after others were stored; the answer is then 429 (or 409) too, and a retry
 * stores the rest, the stored batches being duplicates by their keys.
 */
export async function ingestAll(env: Env, items: readonly IngestItem[]): Promise<IngestAnswer> {
  const sessions = groupBySession(items);
  await refuseReusedKey(env, items, sessions);
  await checkRoom(env, items, sessions);
  const accepted: IngestResult[] = new Array(items.length);
  const refused: { sessionId: string; retryAfterMs: number }[] = [];
  let seenEvents = 0;
  let conflict = false;
  await Promise.all(
    sessions.map(async (indexes) => {
      for (const i of indexes) {
        const { payload, dedupe } = items[i]!;
        const stub = sessionStub(env, payload.product_id, payload.session_id!);
        const result = await stub.ingest(payload, dedupe);
        if (result.outcome === "conflict") {
          conflict = true;
          return;
        }
        if (result.outcome === "backlog") {
          // Later batches of this session wait too, so its order is kept on the retry.
          refused.push({ sessionId: payload.session_id!, retryAfterMs: result.retryAfterMs });
          return;
        }
        if (dedupe.kind === "events") seenEvents += result.seen;
        accepted[i] = { product_id: payload.product_id, session_id: payload.session_id!, actions: result.actions, duplicate: result.outcome === "duplicate" };
      }
    }),
  );
  if (conflict) throw new ApiError(409, "idempotency_key_reused", KEY_REUSED);
  if (refused.length > 0) throw backlogError(refused);
  return { accepted, seenEvents };
}
