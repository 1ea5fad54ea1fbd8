/**
 * @module
 * `POST /webhook/:product_id`: PostHog delivers events here (native webhook batch, CDP HTTP
 * webhook, or a Hog function's flat payload). Authenticated by `X-PostHog-Secret` (the plain
 * secret, or `sha256=<hex HMAC of the raw body>`): the product's own `posthog_webhook_secret` when
 * its settings name one (then it works for that product only), else the environment's; a failed check answers 401 before anything is
 * parsed or stored. PostHog redelivers: a batch whose events were all accepted before is a no-op.
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { loadConfig, need, posthogSecretFor, type SecretLookup } from "../config";
import { sourceSecret } from "../config/product";
import type { App } from "../http/app";
import { parseJson, readBodyText, requireJsonContentType } from "../http/body";
import { ApiError } from "../http/errors";
import { describedBody, ErrorSchema, jsonContent, ProductIdParam, SourceAcceptedSchema } from "../http/schemas";
import { invalidProductId, rejectInvalid } from "../http/validate";
import { log } from "../log";
import { productSettings } from "../product/client";
import { ingestParsed } from "../sources/ingestParsed";
import { parsePosthogBody } from "../sources/posthog";
import { PosthogWebhookBodySchema } from "../sources/posthogSchemas";
import { verifyPosthogSecret } from "../sources/signatures";

/**
 * The raw body once the product's secret vouches for it. Refuses before reading when no secret
 * is configured (nothing could ever pass) or the body is not declared JSON (415), then reads
 * within the size limit and checks the header.
 */
async function verifiedBody(c: Context, productId: string): Promise<string> {
  // A product's own secret works for it alone; without one, the environment's apply.
  const own = sourceSecret(c.env, await productSettings(c.env, productId), "posthog_webhook_secret");
  const secret = own.own ? own.secret : posthogSecretFor(need(loadConfig(c.env).access.posthog), productId);
  const lookup: SecretLookup = typeof secret === "string" ? { ok: true, secret } : secret ?? { ok: false, reason: "not_configured" };
  if (!lookup.ok) throw new ApiError(401, "invalid_signature", "no PostHog webhook secret is configured for this product");
  requireJsonContentType(c);
  const raw = await readBodyText(c);
  if (!(await verifyPosthogSecret(c.req.header("x-posthog-secret"), raw, lookup.secret))) {
    log("posthog:invalid_signature", { product_id: productId });
    throw new ApiError(401, "invalid_signature", "X-PostHog-Secret is missing or does not match");
  }
  return raw;
}

/** Registers `POST /webhook/:product_id` and its OpenAPI description. */
export function registerPosthogWebhook(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "posthogSecret", {
    type: "apiKey",
    in: "header",
    name: "X-PostHog-Secret",
    description: "The product's webhook secret, or sha256=<hex HMAC-SHA256 of the raw body keyed by it>",
  });

  const route = createRoute({
    method: "post",
    path: "/webhook/{product_id}",
    tags: ["sources"],
    summary: "Ingest PostHog events",
    description:
      "Accepts PostHog's native webhook batch, the CDP HTTP-webhook default body, or a Hog function's flat payload. " +
      "Events are grouped by $session_id (else distinct_id), deduplicated by uuid, ordered by timestamp and turned into actions; " +
      "low-signal events ($pageleave, $identify, $set, $feature_flag_called, …) are dropped and counted.",
    security: [{ posthogSecret: [] }],
    request: { params: ProductIdParam, body: describedBody(app, "PosthogWebhookBody", PosthogWebhookBodySchema) },
    responses: {
      202: jsonContent(SourceAcceptedSchema, "Accepted and stored durably"),
      400: jsonContent(ErrorSchema, "Body is not JSON"),
      401: jsonContent(ErrorSchema, "X-PostHog-Secret missing or wrong, or no secret configured for the product"),
      413: jsonContent(ErrorSchema, "Body or event count over the limit"),
      415: jsonContent(ErrorSchema, "Content-Type is not application/json"),
      422: jsonContent(ErrorSchema, "Invalid product id, or not a PostHog body"),
      429: jsonContent(ErrorSchema, "A session's backlog is full (`session_backlog`, with Retry-After); nothing of the request was stored"),
      503: jsonContent(ErrorSchema, "POSTHOG_WEBHOOK_SECRETS is not a JSON object of product ids to secrets (`misconfigured`)"),
    },
  });

  app.openapi(
    route,
    async (c) => {
      const { product_id } = c.req.valid("param");
      const body = parseJson(await verifiedBody(c, product_id));
      const result = parsePosthogBody(body, { productId: product_id, now: Date.now() / 1000 });
      return c.json(await ingestParsed(c.env, "posthog", result), 202);
    },
    rejectInvalid({ param: invalidProductId }),
  );
}
