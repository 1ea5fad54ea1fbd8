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
 * source retries it later rather than its events being dropped. Each batch's
 * dedupe key is a hash of its sorted event ids, so a redelivered batch is a no-op in the actor.
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
      dedupeKey: `${source}:${await sha256Hex([...b.eventIds].sort().join("\n"))}`,
    })),
  );
  return { accepted: items.length > 0 ? await ingestAll(env, items) : [], dropped: result.dropped };
}
