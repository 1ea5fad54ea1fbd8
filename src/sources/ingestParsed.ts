/**
 * @module
 * The ingest of a source's parse result, shared by every source route (PostHog, Segment).
 */
import { ApiError } from "../http/errors";
import { ingestAll, sha256Hex, type IngestItem, type IngestResult } from "../ingest";
import type { DropCounts, SourceParseResult } from "./common";

/**
 * Hands each session batch to its actor and returns the 202 answer (`SourceAcceptedSchema`);
 * a body the parser refused is 422 `invalid_payload`, or 413 `too_many_events`. A session whose backlog
 * is full makes the whole delivery 429 `session_backlog` (from `ingestAll`, nothing stored), so the
 * source retries it later rather than its events being dropped. Each event is keyed by its id
 * (hashed, so a long fingerprint costs no more than a uuid): the session applies it once however
 * the source re-batches a redelivery, and counts a seen one as `duplicate`.
 * @param source names the dedupe keys' namespace (`posthog`, `segment`)
 * @example return c.json(await ingestParsed(c.env, "segment", parseSegmentBody(body, opts)), 202)
 */
export async function ingestParsed(
  env: Env,
  source: string,
  result: SourceParseResult,
): Promise<{ accepted: IngestResult[]; dropped: DropCounts }> {
  if (!result.ok) {
    throw result.code === "too_many_events"
      ? new ApiError(413, "too_many_events", result.message)
      : new ApiError(422, "invalid_payload", result.message);
  }
  const items: IngestItem[] = await Promise.all(
    result.batches.map(async (b) => ({
      payload: b.payload,
      dedupe: { kind: "events" as const, keys: await Promise.all(b.eventIds.map(async (id) => `${source}:${await sha256Hex(id)}`)) },
    })),
  );
  if (items.length === 0) return { accepted: [], dropped: result.dropped };
  const { accepted, seenEvents } = await ingestAll(env, items);
  const dropped = { ...result.dropped };
  if (seenEvents > 0) dropped.duplicate = (dropped.duplicate ?? 0) + seenEvents;
  return { accepted, dropped };
}
