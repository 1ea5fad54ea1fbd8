/**
 * @module
 * The one way events enter the system, whatever their source (Autoplay, PostHog, Segment):
 * hand each session's batch to its actor. The actor writes durably and arms its alarm; no
 * destination or LLM call happens on this path.
 */
import { loadConfig, need } from "./config";
import { ApiError } from "./http/errors";
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

/**
 * Sends every item to its session's actor, sessions in parallel, items of one session in order.
 * All items have been validated first, so a bad item never leaves a half-applied request.
 * Throws 409 `idempotency_key_reused` when an Idempotency-Key comes back with another body.
 */
export async function ingestAll(env: Env, items: readonly IngestItem[]): Promise<IngestAnswer> {
  const sessions = groupBySession(items);
  await refuseReusedKey(env, items, sessions);
  const accepted: IngestResult[] = new Array(items.length);
  let seenEvents = 0;
  let conflict = false;
  await Promise.all(
    sessions.map(async (indexes) => {
      for (const i of indexes) {
        const { payload, dedupe } = items[i]!;
        const stub = sessionStub(env, payload.product_id, payload.session_id!);
        const { outcome, actions, seen } = await stub.ingest(payload, dedupe);
        if (outcome === "conflict") {
          conflict = true;
          return;
        }
        if (dedupe.kind === "events") seenEvents += seen;
        accepted[i] = { product_id: payload.product_id, session_id: payload.session_id!, actions, duplicate: outcome === "duplicate" };
      }
    }),
  );
  if (conflict) throw new ApiError(409, "idempotency_key_reused", KEY_REUSED);
  return { accepted, seenEvents };
}
