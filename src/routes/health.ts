/**
 * @module
 * `GET /healthz`: liveness and the configuration a deployer wants to see at a glance. The only
 * route without a credential, so it shows no secret and no session data.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { readConfig } from "../config";
import type { App } from "../http/app";

const HealthSchema = z
  .object({
    status: z.literal("ok"),
    destination: z.string(),
    summariser: z.enum(["llm", "extractive"]),
    threshold: z.number().int(),
    mode: z.enum(["rolling", "independent"]),
  })
  .openapi("Health");

const route = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness",
  responses: { 200: { description: "Service is up", content: { "application/json": { schema: HealthSchema } } } },
});

export function registerHealth(app: App): void {
  app.openapi(route, (c) => {
    const config = readConfig(c.env as unknown as Record<string, unknown>);
    return c.json(
      {
        status: "ok" as const,
        destination: config.destination,
        summariser: config.llm.apiKey || config.llm.baseURL ? ("llm" as const) : ("extractive" as const),
        threshold: config.threshold,
        mode: config.mode,
      },
      200,
    );
  });
}
