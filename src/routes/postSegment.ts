/**
 * @module
 * `POST /v1/segment/:product_id`: Segment `track`, `page` and `screen` calls (one call or a
 * `{"batch":[…]}`), e.g. from Segment's "Webhooks (Actions)" destination with an
 * `Authorization: Bearer <API_TOKEN>` header. Redelivered calls (same `messageId`s) are a no-op.
 */
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../http/app";
import { readJsonBody } from "../http/app";
import { requireApiToken } from "../http/auth";
import { parseSegmentBody } from "../sources/segment";
import { errorResponse, ProductIdParam, SegmentBodySchema, SourceAcceptedSchema } from "../sources/posthogSchemas";
import { ingestParsed, productIdParam } from "./postPosthogWebhook";

/** OpenAPI description of the route (the handler itself is a plain `app.post`). */
export const segmentRoute = createRoute({
  method: "post",
  path: "/v1/segment/{product_id}",
  tags: ["sources"],
  summary: "Ingest Segment track/page calls",
  description:
    "Sessions are keyed by context.sessionId or properties.session_id when present, else userId ?? anonymousId. " +
    "identify/group/alias calls are dropped as low_signal; calls are deduplicated by messageId.",
  security: [{ bearer: [] }],
  request: {
    params: ProductIdParam,
    body: { required: true, content: { "application/json": { schema: SegmentBodySchema } } },
  },
  responses: {
    202: { description: "Accepted and stored durably", content: { "application/json": { schema: SourceAcceptedSchema } } },
    400: errorResponse("Body is not JSON"),
    401: errorResponse("Missing or wrong API token"),
    413: errorResponse("Body or event count over the limit"),
    422: errorResponse("Invalid product id, or not a Segment call"),
  },
});

/** Registers `POST /v1/segment/:product_id` and its OpenAPI description. */
export function registerSegment(app: App): void {
  app.openAPIRegistry.registerPath(segmentRoute);
  app.post("/v1/segment/:product_id", requireApiToken(), async (c) => {
    const productId = productIdParam(c);
    const { json } = await readJsonBody(c);
    return ingestParsed(c, "segment", parseSegmentBody(json, { productId, now: Date.now() / 1000 }));
  });
}
