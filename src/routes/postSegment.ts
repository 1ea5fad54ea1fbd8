/**
 * @module
 * `POST /v1/segment/:product_id`: Segment `track`, `page` and `screen` calls (one call or a
 * `{"batch":[…]}`), e.g. from Segment's "Webhooks (Actions)" destination with an
 * `Authorization: Bearer <API_TOKEN>` header, or an API key with the
 * `ingest` scope for that product. Redelivered calls (same `messageId`s) are a no-op.
 */
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { readJsonBody } from "../http/body";
import { describedBody, ErrorSchema, jsonContent, ProductIdParam, SourceAcceptedSchema } from "../http/schemas";
import { invalidProductId, rejectInvalid } from "../http/validate";
import { ingestParsed } from "../sources/ingestParsed";
import { parseSegmentBody, SegmentBodySchema } from "../sources/segment";

/** Registers `POST /v1/segment/:product_id` and its OpenAPI description. */
export function registerSegment(app: App): void {
  const route = createRoute({
    method: "post",
    path: "/v1/segment/{product_id}",
    tags: ["sources"],
    summary: "Ingest Segment track/page calls",
    description:
      "Sessions are keyed by context.sessionId or properties.session_id when present, else userId ?? anonymousId. " +
      "identify/group/alias calls are dropped as low_signal; calls are deduplicated by messageId.",
    security: [{ bearer: [] }],
    middleware: [requireAccess("POST /v1/segment/{product_id}")],
    request: { params: ProductIdParam, body: describedBody(app, "SegmentBody", SegmentBodySchema) },
    responses: {
      202: jsonContent(SourceAcceptedSchema, "Accepted and stored durably"),
      400: jsonContent(ErrorSchema, "Body is not JSON"),
      401: jsonContent(ErrorSchema, "Missing or wrong API token or key"),
      403: jsonContent(ErrorSchema, "The key has no ingest scope for this product (`out_of_scope`); nothing stored"),
      413: jsonContent(ErrorSchema, "Body or event count over the limit"),
      415: jsonContent(ErrorSchema, "Content-Type is not application/json"),
      422: jsonContent(ErrorSchema, "Invalid product id, or not a Segment call"),
      429: jsonContent(ErrorSchema, "A session's backlog is full (`session_backlog`, with Retry-After); nothing of the request was stored"),
    },
  });

  app.openapi(
    route,
    async (c) => {
      const { product_id } = c.req.valid("param");
      const result = parseSegmentBody(await readJsonBody(c), { productId: product_id, now: Date.now() / 1000 });
      return c.json(await ingestParsed(c.env, "segment", result), 202);
    },
    rejectInvalid({ param: invalidProductId }),
  );
}
