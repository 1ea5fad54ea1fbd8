/**
 * @module
 * The per-session routes under `/v1/products/:product_id/sessions/:session_id`: state, context,
 * link, flush, erase. Each addresses the actor named `{product_id}:{session_id}`, so a product
 * can only ever reach its own sessions.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { readJsonBody, type App, type AppEnv } from "../http/app";
import { ApiError } from "../http/errors";
import { ContextSchema, ErrorSchema, LinkBodySchema, LinkResultSchema, SessionParams, SessionStateSchema } from "../http/schemas";
import { parseOr422 } from "../http/validate";
import { sessionStub } from "../ingest";

const BASE = "/v1/products/{product_id}/sessions/{session_id}";
const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema } } });
const notFound = json(ErrorSchema, "Unknown session");
const security = [{ bearer: [] }];

function params(c: Context<AppEnv>) {
  const { product_id, session_id } = parseOr422(SessionParams, c.req.param(), "invalid_path");
  return { product_id, session_id, stub: sessionStub(c.env, product_id, session_id) };
}

function unknownSession(): ApiError {
  return new ApiError(404, "session_not_found", "no such session for this product");
}

const routes = {
  state: createRoute({
    method: "get",
    path: BASE,
    summary: "Session state",
    security,
    request: { params: SessionParams },
    responses: { 200: json(SessionStateSchema, "The session's state"), 404: notFound },
  }),
  context: createRoute({
    method: "get",
    path: `${BASE}/context`,
    summary: "The text an agent reads now",
    description: "Latest posted summary, then the actions it does not cover. `?query=` wraps it as the SDK's `enrich()` does.",
    security,
    request: { params: SessionParams, query: z.object({ query: z.string().max(4_000).optional() }) },
    responses: { 200: json(ContextSchema, "Context text"), 404: notFound },
  }),
  link: createRoute({
    method: "put",
    path: `${BASE}/link`,
    summary: "Set the conversation this session's notes go to",
    security,
    request: { params: SessionParams, body: { content: { "application/json": { schema: LinkBodySchema } }, required: true } },
    responses: { 200: json(LinkResultSchema, "Linked"), 422: json(ErrorSchema, "Invalid body") },
  }),
  flush: createRoute({
    method: "post",
    path: `${BASE}/flush`,
    summary: "Summarise what is pending now, below K; retry parked steps",
    security,
    request: { params: SessionParams },
    responses: {
      202: json(z.object({ closed_window: z.boolean() }).openapi("FlushResult"), "Flush scheduled"),
      404: notFound,
    },
  }),
  erase: createRoute({
    method: "delete",
    path: BASE,
    summary: "Erase the session's state",
    security,
    request: { params: SessionParams },
    responses: { 204: { description: "Erased" }, 404: notFound },
  }),
};

export function registerSessionRoutes(app: App): void {
  for (const route of Object.values(routes)) app.openAPIRegistry.registerPath(route);
  const path = "/v1/products/:product_id/sessions/:session_id";

  app.get(path, async (c) => {
    const state = await params(c).stub.state();
    if (!state) throw unknownSession();
    return c.json(state);
  });

  app.get(`${path}/context`, async (c) => {
    const query = c.req.query("query");
    if (query !== undefined && query.length > 4_000) throw new ApiError(422, "invalid_query", "query: at most 4000 characters");
    const result = await params(c).stub.context(query);
    if (!result) throw unknownSession();
    return c.json(result);
  });

  app.put(`${path}/link`, async (c) => {
    const { product_id, session_id, stub } = params(c);
    const { json: body } = await readJsonBody(c, 16_384);
    const { conversation_id } = parseOr422(LinkBodySchema, body, "invalid_link");
    return c.json(await stub.link(product_id, session_id, conversation_id));
  });

  app.post(`${path}/flush`, async (c) => {
    const result = await params(c).stub.flush();
    if (!result) throw unknownSession();
    return c.json(result, 202);
  });

  app.delete(path, async (c) => {
    if (!(await params(c).stub.erase())) throw unknownSession();
    return c.body(null, 204);
  });
}
