/**
 * @module
 * The one way events enter the system, whatever their source (Autoplay, PostHog, Segment):
 * hand each session's batch to its actor. The actor writes durably and arms its alarm; no
 * destination or LLM call happens on this path.
 */
import { loadConfig, need } from "./config";
import type { ActionsPayload } from "./session/model";

export interface IngestItem {
  /** A validated batch with non-empty `product_id` and `session_id`. */
  payload: ActionsPayload;
  /** Makes a retried delivery a no-op: an Idempotency-Key, an event uuid, or the content hash. */
  dedupeKey: string;
}

export interface IngestResult {
  product_id: string;
  session_id: string;
  actions: number;
  duplicate: boolean;
}

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

/**
 * Sends every item to its session's actor, sessions in parallel, items of one session in order.
 * All items have been validated first, so a bad item never leaves a half-applied request.
 */
export async function ingestAll(env: Env, items: readonly IngestItem[]): Promise<IngestResult[]> {
  const bySession = new Map<string, number[]>();
  items.forEach((item, i) => {
    const name = actorName(item.payload.product_id, item.payload.session_id!);
    bySession.set(name, [...(bySession.get(name) ?? []), i]);
  });
  const results: IngestResult[] = new Array(items.length);
  await Promise.all(
    [...bySession.values()].map(async (indexes) => {
      for (const i of indexes) {
        const { payload, dedupeKey } = items[i]!;
        const stub = sessionStub(env, payload.product_id, payload.session_id!);
        const { duplicate } = await stub.ingest(payload, dedupeKey);
        results[i] = {
          product_id: payload.product_id,
          session_id: payload.session_id!,
          actions: payload.actions.length,
          duplicate,
        };
      }
    }),
  );
  return results;
}
