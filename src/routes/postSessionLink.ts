/**
 * @module
 * `POST /sessions/link`: the browser-facing link call an Intercom `onConversationStarted` snippet makes,
 * `{product_id, session_id, conversation_id}`. It runs in the end user's page, so it cannot hold the API
 * token: it carries a publishable per-product key instead (`X-Publishable-Key`, or `?key=`), checked in
 * constant time against `PUBLISHABLE_KEYS` (JSON: product_id → key). The key only allows setting the first
 * link of a session of that product (one whose events may not have arrived yet), never moving an existing
 * one (409 `already_linked`; relinking is `PUT …/link` with the API token), so it cannot steer anyone's
 * context elsewhere. A session it creates that never receives an event is erased within a day.
 *
 * CORS answers only the origins in `LINK_ALLOWED_ORIGINS` (comma-separated, exact `scheme://host[:port]`),
 * and a request whose `Origin` is not one of them is refused (a simple `text/plain` POST skips the
 * preflight, so the browser alone would not stop it). Calls without an `Origin` (server to server) pass.
 * With no `PUBLISHABLE_KEYS` configured the route refuses everything (it never falls open).
 * The settings are read in `src/config/access.ts`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { loadConfig, need } from "../config";
import type { App, AppEnv } from "../http/app";
import { jsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { ConversationId, ErrorSchema, firstValue, jsonContent, ProductId, SessionId } from "../http/schemas";
import { rejectInvalid } from "../http/validate";
import { sessionStub } from "../ingest";
import { constantTimeEqual } from "../sources/signatures";

export const LINK_PATH = "/sessions/link";
const MAX_LINK_BODY_BYTES = 4_096;

export const SessionLinkBodySchema = z
  .object({ product_id: ProductId, session_id: SessionId, conversation_id: ConversationId })
  .openapi("SessionLinkRequest", { example: { product_id: "prod_abc", session_id: "ps_abc123", conversation_id: "215471234567890" } });

const SessionLinkResultSchema = z
  .object({ product_id: z.string(), session_id: z.string(), conversation_id: z.string(), changed: z.boolean() })
  .openapi("SessionLinkResult");

const route = createRoute({
  method: "post",
  path: LINK_PATH,
  summary: "Link a session to its Intercom conversation (browser, publishable key)",
  description:
    "Called from the product's page when the Messenger starts a conversation. Authenticated by the product's " +
    "publishable key (`X-Publishable-Key` header or `?key=`), not the API token. CORS: `LINK_ALLOWED_ORIGINS`. " +
    "Sets a session's first link only: the same conversation again is a no-op (`changed: false`), another one is 409 " +
    "`already_linked` (relinking needs the API token: `PUT /v1/products/{product_id}/sessions/{session_id}/link`). " +
    "A session that receives a link and never an event is erased within 24 hours.",
  security: [{ publishableKey: [] }],
  middleware: [requireLinkSetup(), jsonBody(MAX_LINK_BODY_BYTES, { textPlain: true })] as const,
  request: {
    query: z.object({ key: firstValue(z.string()).optional().openapi({ description: "The publishable key, when a header cannot be set" }) }),
    body: { content: { "application/json": { schema: SessionLinkBodySchema } }, required: true },
  },
  responses: {
    200: jsonContent(SessionLinkResultSchema, "Linked (`changed` is false when it already was)"),
    401: jsonContent(ErrorSchema, "Missing or wrong publishable key"),
    403: jsonContent(ErrorSchema, "Origin not allowed"),
    409: jsonContent(ErrorSchema, "The session is already linked to another conversation (`already_linked`)"),
    415: jsonContent(ErrorSchema, "Content-Type is neither application/json nor text/plain (what navigator.sendBeacon sends)"),
    422: jsonContent(ErrorSchema, "Invalid body"),
    503: jsonContent(ErrorSchema, "PUBLISHABLE_KEYS is not configured (`not_configured`) or malformed (`misconfigured`)"),
  },
});

/** Refuses before the body is read: 503 while no keys are configured, 403 for a browser origin outside `LINK_ALLOWED_ORIGINS`. */
function requireLinkSetup(): MiddlewareHandler<AppEnv> {
  return async function requireLinkSetup(c, next) {
    const { access } = loadConfig(c.env);
    if (!need(access.publishableKeys)) {
      throw new ApiError(503, "not_configured", "PUBLISHABLE_KEYS is not configured; POST /sessions/link refuses all requests");
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && !access.allowedOrigins.includes(origin)) {
      throw new ApiError(403, "origin_not_allowed", "this origin is not in LINK_ALLOWED_ORIGINS");
    }
    await next();
  };
}

/**
 * Registers `POST /sessions/link` with its CORS preflight and its OpenAPI entry.
 * @example registerSessionLink(app)
 */
export function registerSessionLink(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "publishableKey", { type: "apiKey", in: "header", name: "X-Publishable-Key" });

  app.use(
    LINK_PATH,
    cors({
      origin: (origin, c) => (loadConfig(c.env).access.allowedOrigins.includes(origin) ? origin : null),
      allowMethods: ["POST", "OPTIONS"],
      allowHeaders: ["Content-Type", "X-Publishable-Key"],
      maxAge: 600,
    }),
  );

  app.openapi(
    route,
    async (c) => {
      const { product_id, session_id, conversation_id } = c.req.valid("json");
      const given = c.req.header("x-publishable-key") ?? c.req.valid("query").key;
      if (!given) throw new ApiError(401, "unauthorized", "missing publishable key (X-Publishable-Key header or ?key=)");
      const expected = need(loadConfig(c.env).access.publishableKeys)?.get(product_id);
      // Compare even for an unknown product, so timing does not tell which products exist.
      const matches = await constantTimeEqual(given, expected ?? "\u0000no-key");
      if (!expected || !matches) throw new ApiError(401, "unauthorized", "invalid publishable key for this product");
      const result = await sessionStub(c.env, product_id, session_id).linkFirst(product_id, session_id, conversation_id);
      if ("already_linked" in result) {
        // Not naming the current conversation: the page's key must not learn where a session writes.
        throw new ApiError(409, "already_linked", "this session is already linked to another conversation; relinking needs the API token (PUT …/link)");
      }
      return c.json({ product_id, session_id, conversation_id: result.conversation_id, changed: result.changed }, 200);
    },
    rejectInvalid({ json: "invalid_link" }),
  );
}
