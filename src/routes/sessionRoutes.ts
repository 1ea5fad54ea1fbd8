/**
 * @module
 * The per-session routes under `/v1/products/:product_id/sessions/:session_id`: state, context,
 * link, flush, erase. Each addresses the actor named `{product_id}:{session_id}`, so a product
 * can only ever reach its own sessions.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { jsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import {
  ContextSchema,
  ErrorSchema,
  firstValue,
  jsonContent,
  keyAuthResponses,
  LinkBodySchema,
  LinkResultSchema,
  SessionParams,
  SessionStateSchema,
} from "../http/schemas";
import { rejectInvalid } from "../http/validate";
import { sessionStub } from "../ingest";

const BASE = "/v1/products/{product_id}/sessions/{session_id}";
const MAX_LINK_BODY_BYTES = 16_384;
const notFound = jsonContent(ErrorSchema, "Unknown session");
const security = [{ bearer: [] }];

const routes = {
  state: createRoute({
    method: "get",
    path: BASE,
    summary: "Session state",
    security,
    middleware: requireAccess("GET /v1/products/{product_id}/sessions/{session_id}"),
    request: { params: SessionParams },
    responses: { 200: jsonContent(SessionStateSchema, "The session's state"), ...keyAuthResponses, 404: notFound },
  }),
  context: createRoute({
    method: "get",
    path: `${BASE}/context`,
    summary: "The text an agent reads now",
    description: "Latest posted summary, then the actions it does not cover. `?query=` wraps it as the SDK's `enrich()` does.",
    security,
    middleware: requireAccess("GET /v1/products/{product_id}/sessions/{session_id}/context"),
    request: { params: SessionParams, query: z.object({ query: firstValue(z.string().max(4_000, "at most 4000 characters")).optional() }) },
    responses: { 200: jsonContent(ContextSchema, "Context text"), ...keyAuthResponses, 404: notFound },
  }),
  link: createRoute({
    method: "put",
    path: `${BASE}/link`,
    summary: "Set the conversation this session's notes go to",
    security,
    middleware: [requireAccess("PUT /v1/products/{product_id}/sessions/{session_id}/link"), jsonBody(MAX_LINK_BODY_BYTES)] as const,
    request: { params: SessionParams, body: { content: { "application/json": { schema: LinkBodySchema } }, required: true } },
    responses: {
      200: jsonContent(LinkResultSchema, "Linked"),
      ...keyAuthResponses,
      415: jsonContent(ErrorSchema, "Content-Type is not application/json"),
      422: jsonContent(ErrorSchema, "Invalid body"),
    },
  }),
  flush: createRoute({
    method: "post",
    path: `${BASE}/flush`,
    summary: "Summarise what is pending now, below K; retry parked steps",
    security,
    middleware: requireAccess("POST /v1/products/{product_id}/sessions/{session_id}/flush"),
    request: { params: SessionParams },
    responses: {
      202: jsonContent(z.object({ closed_window: z.boolean() }).openapi("FlushResult"), "Flush scheduled"),
      ...keyAuthResponses,
      404: notFound,
    },
  }),
  erase: createRoute({
    method: "delete",
    path: BASE,
    summary: "Erase the session's state",
    description: "Removes the session from the product's index first; if the index cannot be reached, nothing is erased (`unavailable`) and a retry does both.",
    security,
    middleware: requireAccess("DELETE /v1/products/{product_id}/sessions/{session_id}"),
    request: { params: SessionParams },
    responses: { 204: { description: "Erased" }, ...keyAuthResponses, 404: notFound },
  }),
};

/** The actor of the session the path names. */
function stub(env: Env, { product_id, session_id }: z.infer<typeof SessionParams>) {
  return sessionStub(env, product_id, session_id);
}

function unknownSession(): ApiError {
  return new ApiError(404, "session_not_found", "no such session for this product");
}

const rejectBadRequest = rejectInvalid({ param: "invalid_path", query: "invalid_query", json: "invalid_link" });

export function registerSessionRoutes(app: App): void {
  app.openapi(
    routes.state,
    async (c) => {
      const state = await stub(c.env, c.req.valid("param")).state();
      if (!state) throw unknownSession();
      return c.json(state, 200);
    },
    rejectBadRequest,
  );

  app.openapi(
    routes.context,
    async (c) => {
      const result = await stub(c.env, c.req.valid("param")).context(c.req.valid("query").query);
      if (!result) throw unknownSession();
      return c.json(result, 200);
    },
    rejectBadRequest,
  );

  app.openapi(
    routes.link,
    async (c) => {
      const { product_id, session_id } = c.req.valid("param");
      const { conversation_id } = c.req.valid("json");
      return c.json(await stub(c.env, { product_id, session_id }).link(product_id, session_id, conversation_id), 200);
    },
    rejectBadRequest,
  );

  app.openapi(
    routes.flush,
    async (c) => {
      const result = await stub(c.env, c.req.valid("param")).flush();
      if (!result) throw unknownSession();
      return c.json(result, 202);
    },
    rejectBadRequest,
  );

  app.openapi(
    routes.erase,
    async (c) => {
      if (!(await stub(c.env, c.req.valid("param")).erase())) throw unknownSession();
      return c.body(null, 204);
    },
    rejectBadRequest,
  );
}
