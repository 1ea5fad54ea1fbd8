/**
 * @module
 * The `stream` destination: a lane that appends each note, as the SDK's payloads (one RPC per
 * note, so per drain burst), to its product's stream hub (`src/stream/hub.ts`), whence `GET /stream/:product_id` serves it. Being a lane, it
 * inherits the session's order (raw before the summary that covers it), retries and parking, and
 * ingest never waits for it. The hub keeps each key once, so a retry after a lost answer appends
 * nothing twice. A subscriber cannot un-read a frame, so a redaction is done with no call.
 */
import { done, retry } from "../result";
import { autoplayPayloads, payloadKey } from "./autoplayPayloads";
import type { Destination, DestinationDeps } from "./types";

export function createStreamDestination(deps: DestinationDeps): Destination {
  const { publish } = deps;
  if (!publish) throw new Error("the stream destination needs the STREAM hub binding");
  return {
    name: "stream",
    needsLink: false,
    async post(session, note) {
      try {
        // A note key is unique within its session only (its epoch is random): the hub's key names the session too.
        const payloads = autoplayPayloads(session, note, deps.now());
        await publish(session.productId, payloads.map((p, i) => ({ key: `${session.sessionId}/${payloadKey(note.key, i)}`, data: JSON.stringify(p) })));
      } catch (err) {
        return retry(`stream hub ${err instanceof Error ? err.name : "error"}`, { unknownOutcome: true });
      }
      return { kind: "done", partId: note.key };
    },
    redact: () => Promise.resolve(done()),
  };
}
