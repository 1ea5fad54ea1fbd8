/**
 * @module
 * `POST /v1/actions`: one Autoplay `ActionsPayload` or an array of them (several sessions are
 * fine). The whole body is validated before any batch is applied, so a bad request changes
 * nothing. Answers 202 once each batch is durable in its session's actor.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { core } from "zod";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { jsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { AcceptedSchema, ActionsRequestSchema, ErrorSchema, jsonContent, LIMITS } from "../http/schemas";
import { describeIssues, rejectInvalid } from "../http/validate";
import { ingestAll, sha256Hex, type IngestItem } from "../ingest";
import type { Dedupe } from "../session/dedupe";
import type { ActionsPayload } from "../session/model";

// Either credential: the API token, or the connector's signature of the raw body.
const security: Record<string, string[]>[] = [{ bearer: [] }, { connectorSignature: [] }];

const route = createRoute({
  method: "post",
  path: "/v1/actions",
  summary: "Ingest action batches",
  description:
    "Accepts one ActionsPayload or an array of them. `Idempotency-Key` (or, without one, the batch's content) makes a retried POST a no-op " +
    "for IDEMPOTENCY_TTL_MS (default 24 hours); the same key with a different body (`forwarded_at` aside) is 409 `idempotency_key_reused` and stores nothing. " +
    `Limits: body 1 MiB (413), ${LIMITS.batchesPerRequest} batches per request, ${LIMITS.actionsPerBatch} actions per batch, string lengths as in the schema (422); ` +
    "a session's backlog (actions not yet covered by a posted summary) at most `SESSION_MAX_PENDING_ACTIONS` / `SESSION_MAX_PENDING_BYTES` (429 `session_backlog`, with Retry-After; 413 when one request alone exceeds it).",
  security,
  middleware: [requireAccess("POST /v1/actions", { allowConnectorSignature: true }), jsonBody()] as const,
  request: {
    headers: z.object({
      "idempotency-key": z
        .string()
        .trim()
        .min(1)
        .max(LIMITS.idempotencyKeyChars)
        .optional()
        .openapi({ description: "Makes a retried POST a no-op for IDEMPOTENCY_TTL_MS; reused with another body it is a 409" }),
    }),
    body: { content: { "application/json": { schema: ActionsRequestSchema } }, required: true },
  },
  responses: {
    202: jsonContent(AcceptedSchema, "Accepted and durable"),
    400: jsonContent(ErrorSchema, "Body is not JSON"),
    401: jsonContent(ErrorSchema, "Missing or invalid credential"),
    403: jsonContent(ErrorSchema, "The key has no ingest scope, or does not cover a batch's product (`out_of_scope`); nothing stored"),
    409: jsonContent(ErrorSchema, "Idempotency-Key reused with a different body (`idempotency_key_reused`); nothing stored"),
    413: jsonContent(ErrorSchema, "Body over 1 MiB, or one session's share of the request over its backlog bound (`session_request_too_large`)"),
    415: jsonContent(ErrorSchema, "Content-Type is not application/json"),
    422: jsonContent(ErrorSchema, "A batch is invalid (the message names the field)"),
    429: jsonContent(ErrorSchema, "A session's backlog is full (`session_backlog`, with Retry-After); nothing of the request was stored"),
  },
});

/**
 * A refused body, one batch at a time as the connector expects: the issues of the first bad
 * batch only, coded `too_many_batches`, `unknown_type` or `invalid_batch`.
 */
function invalidBatch(issues: core.$ZodIssue[]): ApiError {
  const first = issues[0]!;
  const batch = first.path[0];
  const ofBatch = typeof batch === "number" ? issues.filter((i) => i.path[0] === batch) : issues;
  const code =
    first.code === "too_big" && first.path.length === 0
      ? "too_many_batches"
      : first.code === "invalid_union" && first.path.at(-1) === "type"
        ? "unknown_type"
        : "invalid_batch";
  return new ApiError(422, code, describeIssues(ofBatch, "batch"));
}

const IGNORED_SUMMARY = "summary payloads are acknowledged and not applied; Context Relay makes its own summaries";

/**
 * What an Idempotency-Key stands for: the request as it would be stored (every batch parsed,
 * summaries as null), without `forwarded_at`, which a retrying connector restamps and nothing stores.
 */
async function requestFingerprint(batches: readonly (ActionsPayload | null)[], isArray: boolean): Promise<string> {
  const stored = batches.map((b) => b && { ...b, forwarded_at: undefined });
  return sha256Hex(JSON.stringify(isArray ? stored : stored[0]));
}

/**
 * What makes a retried POST a no-op: the Idempotency-Key (with the batch's index in an array),
 * else a hash of the batch as sent, unknown fields included, as it has always been.
 */
async function dedupeFor(
  key: { idempotencyKey: string; fingerprint: string } | null,
  index: number | null,
  sent: unknown,
): Promise<Dedupe> {
  if (key) return { kind: "idempotency", key: key.idempotencyKey, batch: index, fingerprint: key.fingerprint };
  return { kind: "content", key: `sha:${await sha256Hex(JSON.stringify(sent))}` };
}

export function registerPostActions(app: App): void {
  app.openapi(
    route,
    async (c) => {
      const body = c.req.valid("json");
      const idempotencyKey = c.req.valid("header")["idempotency-key"];
      const isArray = Array.isArray(body);
      const batches = isArray ? body : [body];
      const json = idempotencyKey ? null : await c.req.json<unknown>();
      const sent = Array.isArray(json) ? json : [json];
      const key = idempotencyKey ? { idempotencyKey, fingerprint: await requestFingerprint(batches, isArray) } : null;
      const payloads = batches.flatMap((payload, index) => (payload === null ? [] : [{ payload, index }]));
      // An empty batch (`actions` [], null or missing) is acknowledged and stores nothing.
      const nonEmpty = payloads.filter(({ payload }) => payload.actions.length > 0);
      const items: IngestItem[] = await Promise.all(
        nonEmpty.map(({ payload, index }) => dedupeFor(key, isArray ? index : null, sent[index]).then((dedupe) => ({ payload, dedupe }))),
      );
      const ignored = batches.flatMap((payload, index) => (payload === null ? [{ index, reason: IGNORED_SUMMARY }] : []));
      const ingested = (await ingestAll(c.env, items)).accepted.values();
      const accepted = payloads.map(({ payload }) =>
        payload.actions.length > 0
          ? ingested.next().value!
          : { product_id: payload.product_id, session_id: payload.session_id!, actions: 0, duplicate: false },
      );
      return c.json({ accepted, ...(ignored.length ? { ignored } : {}) }, 202);
    },
    rejectInvalid({
      header: () => new ApiError(422, "invalid_idempotency_key", `Idempotency-Key must be 1-${LIMITS.idempotencyKeyChars} characters`),
      json: invalidBatch,
    }),
  );
}
