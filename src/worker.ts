/**
 * @module
 * The Worker: assembles the Hono app from the route modules, maps every error to one JSON shape
 * once, and re-exports the session actor class for the Durable Object binding.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { ConfigError, loadConfig } from "./config";
import type { AppEnv } from "./http/app";
import { ApiError, errorBody } from "./http/errors";
import { configureLogging, log } from "./log";
import { configureMeter, meter } from "./meter";
import { registerHealth } from "./routes/health";
import { registerKeyRoutes } from "./routes/keyRoutes";
import { registerMcp } from "./routes/mcpRoute";
import { registerMemorySearch } from "./routes/memorySearchRoute";
import { registerMeter } from "./routes/meter";
import { registerPostActions } from "./routes/postActions";
import { registerPosthogWebhook } from "./routes/postPosthogWebhook";
import { registerProductRoutes } from "./routes/productRoutes";
import { registerSegment } from "./routes/postSegment";
import { registerSessionLink } from "./routes/postSessionLink";
import { registerSessionIndexRoutes } from "./routes/sessionIndexRoutes";
import { registerSessionRoutes } from "./routes/sessionRoutes";
import { registerUserActivity } from "./routes/userActivityRoute";
import { registerStreamRoutes } from "./routes/stream";
import { registerTimelineRoute } from "./routes/timelineRoute";
import { registerConsole } from "./routes/consoleRoutes";

export { ProductActor } from "./productActor";
export { SessionActor } from "./sessionActor";
export { StreamHub } from "./stream/hub";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "connectorSignature", {
    type: "apiKey",
    in: "header",
    name: "X-Connector-Signature",
    description: "sha256=<hex HMAC-SHA256 of the raw body, keyed by CONNECTOR_SECRET>",
  });

  registerHealth(app);
  registerPostActions(app);
  registerSessionRoutes(app);
  registerTimelineRoute(app);
  registerSessionIndexRoutes(app);
  registerUserActivity(app);
  registerMemorySearch(app);
  registerMcp(app);
  registerProductRoutes(app);
  registerKeyRoutes(app);
  registerPosthogWebhook(app);
  registerSegment(app);
  registerSessionLink(app);
  registerMeter(app);
  registerStreamRoutes(app);
  registerConsole(app);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Context Relay",
      version: "0.1.0",
      description: "Keeps an AI agent's context window current with what a user is doing in a product.",
    },
  });

  app.notFound(() => {
    throw new ApiError(404, "not_found", "no such route");
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status, err.headers);
    if (err instanceof HTTPException) return c.json(errorBody("http_error", err.message), err.status);
    // The one answer for a route that needs a broken setting (see src/config/index.ts).
    if (err instanceof ConfigError) {
      log("config:invalid", { setting: err.setting, message: err.message });
      return c.json(errorBody("misconfigured", err.message), 503);
    }
    // Unexpected: log the kind only (messages can carry request data), answer without details.
    log("request:error", { path: new URL(c.req.url).pathname, error: err instanceof Error ? err.name : "unknown" });
    const overloaded = (err as { overloaded?: boolean }).overloaded === true;
    return c.json(errorBody("unavailable", "the session could not be reached; retry the request"), overloaded ? 503 : 500);
  });

  return app;
}

const app = createApp();

export default {
  fetch(request, env, ctx) {
    const config = loadConfig(env);
    configureLogging(config.logLevel);
    configureMeter(config.meter);
    meter.workerRequest(request.method, request.url);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
