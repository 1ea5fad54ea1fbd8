/**
 * @module
 * `GET /stream/:product_id`: the product's events as the Autoplay connector streams them, so an
 * app on the Python SDK's `AsyncConnectorClient` reads them unchanged; `GET /stream/:product_id/stats`
 * shows its hub. Refusals are JSON before the stream starts, with the statuses the SDK's client
 * treats as fatal: 401 (credential), 403 (`out_of_scope`), 404 (`not_streaming`: the product has
 * no `stream` destination). The stream itself is `src/stream/` (one hub per product).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { loadConfig, need } from "../config";
import { productConfig } from "../config/product";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { ApiError } from "../http/errors";
import { ProductParam } from "../http/productSchemas";
import { ErrorSchema, jsonContent, keyAuthResponses } from "../http/schemas";
import { rejectInvalid } from "../http/validate";
import { productSettings } from "../product/client";
import { parseLastEventId } from "../stream/frames";
import { sseBody } from "../stream/subscriber";

const security = [{ bearer: [] }];
const notStreaming = jsonContent(ErrorSchema, 'The product has no `{"type":"stream"}` destination (`not_streaming`)');

const StreamStatsSchema = z
  .object({
    subscribers: z.number().int(),
    dropped: z.number().int().openapi({ description: "Frames dropped for slow subscribers now connected (reported at each heartbeat)" }),
    events: z.number().int().openapi({ description: "Events the replay log holds now" }),
    oldest_id: z.number().int().nullable(),
    last_id: z.number().int(),
  })
  .openapi("StreamStats");

const routes = {
  stream: createRoute({
    method: "get",
    path: "/stream/{product_id}",
    tags: ["stream"],
    summary: "The product's events as server-sent events (the Autoplay connector's stream)",
    description:
      "Frames `id: <n>` + `data: <ActionsPayload | SummaryPayload JSON>`, in per-session order; `event: heartbeat` at least every 30 s. " +
      "A reconnect with `Last-Event-ID` replays what it missed from the product's log (STREAM_REPLAY_EVENTS, STREAM_REPLAY_MAX_AGE_MS); " +
      "an id older than the log gets `event: missed` first.",
    security,
    middleware: requireAccess("GET /stream/{product_id}"),
    request: { params: ProductParam, headers: z.object({ "last-event-id": z.string().max(32).optional() }) },
    responses: {
      200: { content: { "text/event-stream": { schema: z.string() } }, description: "The stream" },
      ...keyAuthResponses,
      404: notStreaming,
    },
  }),
  stats: createRoute({
    method: "get",
    path: "/stream/{product_id}/stats",
    tags: ["stream"],
    summary: "The product stream's subscribers, drops and replay log",
    security,
    middleware: requireAccess("GET /stream/{product_id}/stats"),
    request: { params: ProductParam },
    responses: { 200: jsonContent(StreamStatsSchema, "The hub's figures"), ...keyAuthResponses, 404: notStreaming },
  }),
};

/** Refuses a product none of whose destinations is the stream (its hub would never get an event). */
async function requireStreaming(env: Env, productId: string): Promise<void> {
  const config = productConfig(loadConfig(env), env, await productSettings(env, productId));
  if (config.lanes.some((lane) => (JSON.parse(lane.entry) as { type: string }).type === "stream")) return;
  throw new ApiError(404, "not_streaming", `product ${JSON.stringify(productId)} has no {"type":"stream"} destination; add one to its destinations`);
}

export function registerStreamRoutes(app: App): void {
  const rejectBadRequest = rejectInvalid({ param: "invalid_path", header: "invalid_header" });
  app.openapi(
    routes.stream,
    async (c) => {
      const { product_id } = c.req.valid("param");
      const options = need(loadConfig(c.env).stream);
      await requireStreaming(c.env, product_id);
      const after = parseLastEventId(c.req.valid("header")["last-event-id"]);
      const url = `https://stream.hub/subscribe${after === null ? "" : `?after=${after}`}`;
      const res = await c.env.STREAM.getByName(product_id).fetch(url, { headers: { upgrade: "websocket" } });
      if (!res.webSocket) throw new Error(`the stream hub answered ${res.status}`);
      const body = sseBody(res.webSocket, { heartbeatMs: options.heartbeatMs, buffer: options.subscriberBuffer });
      return c.body(body, 200, { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" });
    },
    rejectBadRequest,
  );
  app.openapi(
    routes.stats,
    async (c) => {
      const { product_id } = c.req.valid("param");
      await requireStreaming(c.env, product_id);
      return c.json(await c.env.STREAM.getByName(product_id).stats(), 200);
    },
    rejectBadRequest,
  );
}
