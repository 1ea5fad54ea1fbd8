/**
 * @module
 * `POST /v1/actions`: one Autoplay `ActionsPayload` or an array of them (several sessions are
 * fine). Every batch is validated before any is applied, so a bad request changes nothing.
 * Answers 202 once each batch is durable in its session's actor.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { readJsonBody, type App } from "../http/app";
import { requireApiToken } from "../http/auth";
import { ApiError } from "../http/errors";
import { AcceptedSchema, ActionsPayloadSchema, ActionsRequestSchema, ErrorSchema, LIMITS } from "../http/schemas";
import { parseOr422 } from "../http/validate";
import { ingestAll, sha256Hex, type IngestItem } from "../ingest";
import { actionsPayloadFromDict } from "../session/model";

const route = createRoute({
  method: "post",
  path: "/v1/actions",
  summary: "Ingest action batches",
  description:
    "Accepts one ActionsPayload or an array of them. `Idempotency-Key` (or, without one, the batch's content) makes a retried POST a no-op. " +
    `Limits: body 1 MiB (413), ${LIMITS.batchesPerRequest} batches per request, ${LIMITS.actionsPerBatch} actions per batch, string lengths as in the schema (422).`,
  security: [{ bearer: [] }, { connectorSignature: [] }],
  request: {
    headers: z.object({
      "idempotency-key": z.string().max(LIMITS.idempotencyKeyChars).optional().openapi({ description: "Makes a retried POST a no-op" }),
    }),
    body: { content: { "application/json": { schema: ActionsRequestSchema } }, required: true },
  },
  responses: {
    202: { description: "Accepted and durable", content: { "application/json": { schema: AcceptedSchema } } },
    400: { description: "Body is not JSON", content: { "application/json": { schema: ErrorSchema } } },
    401: { description: "Missing or invalid credential", content: { "application/json": { schema: ErrorSchema } } },
    413: { description: "Body over 1 MiB", content: { "application/json": { schema: ErrorSchema } } },
    422: { description: "A batch is invalid (the message names the field)", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export function registerPostActions(app: App): void {
  app.openAPIRegistry.registerPath(route);
  app.post("/v1/actions", requireApiToken({ allowConnectorSignature: true }), async (c) => {
    const { json } = await readJsonBody(c);
    const isArray = Array.isArray(json);
    const items: unknown[] = isArray ? json : [json];
    if (items.length === 0) throw new ApiError(422, "invalid_batch", "the array holds no batch");
    if (items.length > LIMITS.batchesPerRequest) {
      throw new ApiError(422, "too_many_batches", `at most ${LIMITS.batchesPerRequest} batches per request, got ${items.length}`);
    }
    const idempotencyKey = c.req.header("idempotency-key")?.trim();
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > LIMITS.idempotencyKeyChars)) {
      throw new ApiError(422, "invalid_idempotency_key", `Idempotency-Key must be 1-${LIMITS.idempotencyKeyChars} characters`);
    }
    const ignored: { index: number; reason: string }[] = [];
    const toIngest: { index: number; raw: unknown }[] = [];
    items.forEach((raw, index) => {
      const at = isArray ? `batch[${index}]` : "";
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw new ApiError(422, "invalid_batch", `${at || "body"}: must be an ActionsPayload object`);
      }
      const type = (raw as { type?: unknown }).type;
      if (type === "summary") {
        // A connector-side summary: we summarise ourselves, so it is acknowledged, not applied.
        ignored.push({ index, reason: "summary payloads are acknowledged and not applied; Context Relay makes its own summaries" });
        return;
      }
      if (type !== undefined && type !== "actions") {
        throw new ApiError(422, "unknown_type", `${at ? `${at}.` : ""}type: unknown payload type ${JSON.stringify(type)}; expected "actions"`);
      }
      parseOr422(ActionsPayloadSchema, raw, "invalid_batch", at);
      toIngest.push({ index, raw });
    });
    const prepared: IngestItem[] = await Promise.all(
      toIngest.map(async ({ index, raw }) => ({
        payload: actionsPayloadFromDict(raw as Record<string, unknown>),
        dedupeKey: idempotencyKey
          ? `idem:${idempotencyKey}${isArray ? `:${index}` : ""}`
          : `sha:${await sha256Hex(JSON.stringify(raw))}`,
      })),
    );
    const accepted = await ingestAll(c.env, prepared);
    return c.json({ accepted, ...(ignored.length ? { ignored } : {}) }, 202);
  });
}
