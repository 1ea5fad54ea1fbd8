/**
 * @module
 * `GET /v1/products/:p/sessions/:s/timeline` (read scope): the session's live rows as a timeline
 * for the console (`session/timeline.ts`): batches, notes with part ids, summaries with the
 * windows they cover, redactions, steps and the LLM breaker.
 */
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { ApiError } from "../http/errors";
import { ErrorSchema, jsonContent, keyAuthResponses, SessionParams } from "../http/schemas";
import { TimelineSchema } from "../http/timelineSchema";
import { rejectInvalid } from "../http/validate";
import { sessionStub } from "../ingest";

const route = createRoute({
  method: "get",
  path: "/v1/products/{product_id}/sessions/{session_id}/timeline",
  summary: "The session's timeline (what the console shows)",
  security: [{ bearer: [] }],
  middleware: requireAccess("GET /v1/products/{product_id}/sessions/{session_id}/timeline"),
  request: { params: SessionParams },
  responses: { 200: jsonContent(TimelineSchema, "Events oldest first, steps, breaker"), ...keyAuthResponses, 404: jsonContent(ErrorSchema, "Unknown session") },
});

export function registerTimelineRoute(app: App): void {
  app.openapi(
    route,
    async (c) => {
      const { product_id, session_id } = c.req.valid("param");
      const timeline = await sessionStub(c.env, product_id, session_id).timeline();
      if (!timeline) throw new ApiError(404, "session_not_found", "no such session for this product");
      return c.json(timeline, 200);
    },
    rejectInvalid({ param: "invalid_path" }),
  );
}
