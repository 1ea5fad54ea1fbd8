/**
 * @module
 * Generic destination: Standard Webhooks (signed JSON POSTs). `webhook-id` is the note key, so it
 * is stable across retries and the receiver can dedupe on it; a redaction names the `webhook-id`
 * of the note it removes. Event types: `context.raw_note`, `context.summary`, `context.redaction`, and
 * under DELIVERY=replace only `context.replace`: the session's whole context now (`message_id` is the
 * same for every edit, `webhook-id` is the edit's), which the receiver keeps in place of the last one.
 */
import type { WebhookSettings } from "../config";
import { callHttp } from "../outbound/http";
import { answerResult } from "../outbound/status";
import { failed, retry, type Done } from "../result";
import { composeContext } from "../session/context";
import type { ContextMessage, Destination, DestinationDeps, PostedPart, Retry, Failed, SessionRef } from "./types";

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` as Standard Webhooks defines it. */
export async function signWebhook(key: Uint8Array, id: string, timestamp: number, body: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
}

export function createWebhookDestination(settings: WebhookSettings, deps: DestinationDeps): Destination {
  async function send(id: string, event: Record<string, unknown>): Promise<Done | Retry | Failed> {
    const body = JSON.stringify(event);
    const timestamp = Math.floor(deps.now() / 1000);
    const headers = {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signWebhook(settings.key, id, timestamp, body),
    };
    const answer = await callHttp(deps.fetch, { url: settings.url, method: "POST", headers, body }, deps.timeoutMs);
    // The request may have arrived; re-sending with the same webhook-id is safe for the receiver.
    if (answer.kind === "lost") return retry(`webhook ${answer.why}`, { unknownOutcome: true });
    const error = `webhook answered ${answer.status}`;
    // Standard Webhooks: a 410 asks the sender to disable the endpoint, so it parks with that reason.
    if (answer.status === 410) return failed(`${error} (endpoint gone)`);
    return answerResult(answer, error, deps.now());
  }

  const base = (session: SessionRef) => ({
    product_id: session.productId,
    session_id: session.sessionId,
    conversation_id: session.link,
  });

  const replace = async (session: SessionRef, context: ContextMessage) => {
    const data = {
      ...base(session),
      message_id: context.key,
      note_id: context.editKey,
      kind: context.adds,
      text: composeContext(context.summary?.text ?? null, context.raw.map((n) => n.text).join("\n")),
      summary: context.summary,
      raw_notes: context.raw,
    };
    const result = await send(context.editKey, { type: "context.replace", timestamp: new Date(deps.now()).toISOString(), data });
    return result.kind === "done" ? { kind: "done" as const, partId: context.key } : result;
  };

  return {
    name: "webhook",
    needsLink: false,
    ...(settings.delivery === "replace" && { replace }),
    async post(session, note) {
      const type = note.kind === "raw" ? "context.raw_note" : "context.summary";
      const data =
        note.kind === "raw"
          ? { ...base(session), note_id: note.key, window: note.window, text: note.text, actions: note.actions }
          : { ...base(session), note_id: note.key, window: note.window, text: note.text, extractive: note.extractive };
      const result = await send(note.key, { type, timestamp: new Date(deps.now()).toISOString(), data });
      return result.kind === "done" ? { kind: "done", partId: note.key } : result;
    },
    async redact(session, part: PostedPart) {
      const data = { ...base(session), conversation_id: part.link, redacts: part.partId, kind: part.kind };
      return send(`${part.key}.redact`, { type: "context.redaction", timestamp: new Date(deps.now()).toISOString(), data });
    },
  };
}
