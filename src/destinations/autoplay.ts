/**
 * @module
 * The `autoplay` push destination: the Autoplay connector's push mode, so an app built on the
 * Python SDK's `WebhookReceiver(secret)` takes our notes unchanged. Each note is POSTed as the
 * SDK's JSON (`autoplayPayloads.ts`) with `Authorization: Bearer <secret>` and
 * `X-Connector-Signature: sha256=<lowercase hex HMAC-SHA256 of the body>`, the very rule our own
 * ingest checks (`sources/signatures.ts`). `Idempotency-Key` (the note key and the payload's
 * place in it) is stable across retries, for receivers that dedupe (the SDK's does not read it). Such a receiver keeps what it
 * is sent and has no way to take a payload back, so there is nothing to redact: a redaction is
 * done at once, with no call.
 */
import type { AutoplaySettings } from "../config";
import { callHttp } from "../outbound/http";
import { answerResult } from "../outbound/status";
import { done, retry } from "../result";
import { hmacSha256Hex } from "../sources/signatures";
import { autoplayPayloads, payloadKey, type AutoplayWire } from "./autoplayPayloads";
import type { Destination, DestinationDeps, PostResult } from "./types";

export function createAutoplayDestination(settings: AutoplaySettings, deps: DestinationDeps): Destination {
  async function send(payload: AutoplayWire, key: string): Promise<PostResult> {
    const body = JSON.stringify(payload);
    const headers = {
      "content-type": "application/json",
      authorization: `Bearer ${settings.secret}`,
      "x-connector-signature": `sha256=${await hmacSha256Hex(settings.secret, body)}`,
      "idempotency-key": key,
    };
    const answer = await callHttp(deps.fetch, { url: settings.forwardUrl, method: "POST", headers, body }, deps.timeoutMs);
    if (answer.kind === "lost") return retry(`autoplay ${answer.why}`, { unknownOutcome: true });
    const result = answerResult(answer, `autoplay forward_url answered ${answer.status}`, deps.now());
    return result.kind === "done" ? { kind: "done", partId: key } : result;
  }

  return {
    name: "autoplay",
    needsLink: false,
    /** One POST per payload, in order; a failure stops there and the retry sends the note's payloads again (same keys). */
    async post(session, note) {
      const payloads = autoplayPayloads(session, note, deps.now());
      for (const [i, payload] of payloads.entries()) {
        const result = await send(payload, payloadKey(note.key, i));
        if (result.kind !== "done") return result;
      }
      return { kind: "done", partId: note.key };
    },
    redact: () => Promise.resolve(done()),
  };
}
