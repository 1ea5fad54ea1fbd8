/**
 * @module
 * `GET /v1/products/:product_id/users/:user_id/activity?limit=`: the REST twin of the MCP tool
 * `get_live_user_activity`, the same reads and the same JSON (`agents/reads.ts`). An unknown
 * product or user is a 200 with `found: false` and a message, as the tool answers it.
 */
import { createRoute } from "@hono/zod-openapi";
import { readUserActivity } from "../agents/reads";
import { USER_ACTIVITY } from "../agents/userActivity";
import { ActivityQuerySchema, UserActivitySchema } from "../http/agentSchemas";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { UserSessionsParams } from "../http/productSchemas";
import { ErrorSchema, jsonContent, keyAuthResponses } from "../http/schemas";
import { rejectInvalid } from "../http/validate";

const route = createRoute({
  method: "get",
  path: "/v1/products/{product_id}/users/{user_id}/activity",
  tags: ["agents"],
  summary: "A user's live activity across their sessions",
  description:
    `The user's newest sessions (at most ${USER_ACTIVITY.maxSessions}) with their latest summaries, and their most recent actions ` +
    "no summary covers yet, newest first. What the MCP tool get_live_user_activity returns as structured content.",
  security: [{ bearer: [] }],
  middleware: requireAccess("GET /v1/products/{product_id}/users/{user_id}/activity"),
  request: { params: UserSessionsParams, query: ActivityQuerySchema },
  responses: {
    200: jsonContent(UserActivitySchema, "The user's activity (`found: false` when there is none)"),
    ...keyAuthResponses,
    422: jsonContent(ErrorSchema, "Invalid limit (`invalid_query`)"),
  },
});

export function registerUserActivity(app: App): void {
  app.openapi(
    route,
    async (c) => {
      const { product_id, user_id } = c.req.valid("param");
      return c.json(await readUserActivity(c.env, product_id, user_id, c.req.valid("query").limit ?? USER_ACTIVITY.defaultActions), 200);
    },
    rejectInvalid({ param: "invalid_path", query: "invalid_query" }),
  );
}
