/**
 * @module
 * `POST /webhook/:product_id`: PostHog delivers events here (native webhook batch, CDP HTTP
 * webhook, or a Hog function's flat payload). Authenticated by `X-PostHog-Secret` (the plain
 * secret, or `sha256=<hex HMAC of the raw body>`); a failed check answers 401 before anything is
 * parsed or stored. PostHog redelivers: a batch whose events were all accepted before is a no-op.
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { App, AppEnv } from "../http/app";
import { readJsonBody } from "../http/app";
import { ApiError } from "../http/errors";
import { PRODUCT_ID } from "../http/schemas";
import { ingestAll, sha256Hex, type IngestItem } from "../ingest";
import { log } from "../log";
import type { SourceParseResult } from "../sources/common";
import { parsePosthogBody } from "../sources/posthog";
import { errorResponse, PosthogWebhookBodySchema, ProductIdParam, SourceAcceptedSchema } from "../sources/posthogSchemas";
import { resolvePosthogSecret, verifyPosthogSecret } from "../sources/signatures";

/** OpenAPI description of the route (the handler itself is a plain `app.post`, to keep the raw body). */
export const posthogWebhookRoute = createRoute({
  method: "post",
  path: "/webhook/{product_id}",
  tags: ["sources"],
  summary: "Ingest PostHog events",
  description:
    "Accepts PostHog's native webhook batch, the CDP HTTP-webhook default body, or a Hog function's flat payload. " +
    "Events are grouped by $session_id (else distinct_id), deduplicated by uuid, ordered by timestamp and turned into actions; " +
    "low-signal events ($pageleave, $identify, $set, $feature_flag_called, …) are dropped and counted.",
  security: [{ posthogSecret: [] }],
  request: {
    params: ProductIdParam,
    body: { required: true, content: { "application/json": { schema: PosthogWebhookBodySchema } } },
  },
  responses: {
    202: { description: "Accepted and stored durably", content: { "application/json": { schema: SourceAcceptedSchema } } },
    400: errorResponse("Body is not JSON"),
    401: errorResponse("X-PostHog-Secret missing or wrong, or no secret configured for the product"),
    413: errorResponse("Body or event count over the limit"),
    422: errorResponse("Invalid product id, or not a PostHog body"),
    500: errorResponse("POSTHOG_WEBHOOK_SECRETS is not valid JSON"),
  },
});

/** Checks the product id from the path: 422 `invalid_product_id` when it is unusable. */
export function productIdParam(c: Context<AppEnv>): string {
  const productId = c.req.param("product_id") ?? "";
  if (!PRODUCT_ID.test(productId)) {
    throw new ApiError(422, "invalid_product_id", "product_id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' or '-'");
  }
  return productId;
}

/**
 * Turns a source parse result into ingest calls and the 202 answer. Each session batch gets a
 * dedupe key from its sorted event ids, so a redelivered batch is a no-op in the actor.
 */
export async function ingestParsed(c: Context<AppEnv>, source: string, result: SourceParseResult): Promise<Response> {
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
  const accepted = items.length > 0 ? await ingestAll(c.env, items) : [];
  return c.json({ accepted, dropped: result.dropped }, 202);
}

/** Registers `POST /webhook/:product_id` and its OpenAPI description. */
export function registerPosthogWebhook(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "posthogSecret", {
    type: "apiKey",
    in: "header",
    name: "X-PostHog-Secret",
    description: "The product's webhook secret, or sha256=<hex HMAC-SHA256 of the raw body keyed by it>",
  });
  app.openAPIRegistry.registerPath(posthogWebhookRoute);

  app.post("/webhook/:product_id", async (c) => {
    const productId = productIdParam(c);
    const lookup = resolvePosthogSecret(c.env as unknown as Record<string, unknown>, productId);
    if (!lookup.ok && lookup.reason === "misconfigured") {
      throw new ApiError(500, "misconfigured", "POSTHOG_WEBHOOK_SECRETS is not a JSON object of product ids to secrets");
    }
    // Refuse before reading the body: with no secret configured, nothing can ever pass.
    if (!lookup.ok) throw new ApiError(401, "invalid_signature", "no PostHog webhook secret is configured for this product");
    const { raw, json } = await readJsonBody(c);
    if (!(await verifyPosthogSecret(c.req.header("x-posthog-secret"), raw, lookup.secret))) {
      log("posthog:invalid_signature", { product_id: productId });
      throw new ApiError(401, "invalid_signature", "X-PostHog-Secret is missing or does not match");
    }
    return ingestParsed(c, "posthog", parsePosthogBody(json, { productId, now: Date.now() / 1000 }));
  });
}
