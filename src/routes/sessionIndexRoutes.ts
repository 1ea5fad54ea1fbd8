/**
 * @module
 * A product's sessions, from its index (written by each session's own `index` step):
 * `GET /v1/products/:p/sessions` and `GET /v1/products/:p/users/:user_id/sessions`, newest
 * activity first, filtered by `status` (active, parked, linked, idle) and `user_id`, in pages of
 * `limit` (50, at most 200) with an opaque `cursor`. Erased and expired sessions are not listed.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv, App } from "../http/app";
import { requireAccess } from "../http/auth";
import { ApiError } from "../http/errors";
import { ListQuerySchema, ProductParam, SessionListSchema, UserSessionsParams } from "../http/productSchemas";
import { jsonContent, keyAuthResponses, ErrorSchema } from "../http/schemas";
import { rejectInvalid } from "../http/validate";
import { productStub } from "../product/client";
import { decodeCursor, encodeCursor } from "../product/cursor";
import { LISTING, listedSession } from "../product/sessionIndex";

const security = [{ bearer: [] }];
const responses = {
  200: jsonContent(SessionListSchema, "A page of sessions, newest activity first; `next_cursor` is null on the last page"),
  ...keyAuthResponses,
  422: jsonContent(ErrorSchema, "Invalid status, limit or cursor (`invalid_query`)"),
};

const routes = {
  product: createRoute({
    method: "get",
    path: "/v1/products/{product_id}/sessions",
    tags: ["products"],
    summary: "List a product's sessions",
    security,
    middleware: requireAccess("GET /v1/products/{product_id}/sessions"),
    request: { params: ProductParam, query: ListQuerySchema },
    responses,
  }),
  user: createRoute({
    method: "get",
    path: "/v1/products/{product_id}/users/{user_id}/sessions",
    tags: ["products"],
    summary: "List one user's sessions",
    security,
    middleware: requireAccess("GET /v1/products/{product_id}/users/{user_id}/sessions"),
    request: { params: UserSessionsParams, query: ListQuerySchema.omit({ user_id: true }) },
    responses,
  }),
};

async function page(c: Context<AppEnv>, productId: string, query: Partial<z.infer<typeof ListQuerySchema>>) {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (after === null) throw new ApiError(422, "invalid_query", "cursor: not a cursor of this listing (pass next_cursor as it was given)");
  const limit = query.limit ?? LISTING.defaultLimit;
  const { entries, idleMs, now, more } = await productStub(c.env, productId).listSessions({ status: query.status, userId: query.user_id, limit, after });
  const last = entries.at(-1);
  return {
    sessions: entries.map((e) => listedSession(e, now, idleMs)),
    next_cursor: more && last ? encodeCursor({ lastActivityAt: last.last_activity_at, sessionId: last.session_id }) : null,
  };
}

const rejectBadRequest = rejectInvalid({ param: "invalid_path", query: "invalid_query" });

export function registerSessionIndexRoutes(app: App): void {
  app.openapi(routes.product, async (c) => c.json(await page(c, c.req.valid("param").product_id, c.req.valid("query")), 200), rejectBadRequest);
  app.openapi(
    routes.user,
    async (c) => {
      const { product_id, user_id } = c.req.valid("param");
      return c.json(await page(c, product_id, { ...c.req.valid("query"), user_id }), 200);
    },
    rejectBadRequest,
  );
}
