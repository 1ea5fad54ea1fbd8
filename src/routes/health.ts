/**
 * @module
 * `GET /healthz`: liveness and the configuration a deployer wants to see at a glance. The only
 * route without a credential, so it shows no secret and no session data.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { readConfig } from "../config";
import type { App } from "../http/app";
import { BreakerViewSchema } from "../http/schemas";
import { probeLeaseMs, sharedBreaker } from "../llm/breaker";

const HealthSchema = z
  .object({
    status: z.literal("ok"),
    destination: z.string(),
    summariser: z.enum(["llm", "extractive"]),
    threshold: z.number().int(),
    mode: z.enum(["rolling", "independent"]),
    llm_breaker: BreakerViewSchema.extend({
      failure_threshold: z.number().int(),
      pause_ms: z.number().int(),
    })
      .nullable()
      .openapi({
        description:
          "The LLM circuit breaker of the isolate that answered (breakers are per isolate; a session's state shows the one gating it). Null with the extractive summariser.",
      }),
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
    const { llm } = config;
    const usesLlm = Boolean(llm.apiKey || llm.baseURL);
    const settings = { failureThreshold: llm.breakerFailures, pauseMs: llm.breakerPauseMs, probeLeaseMs: probeLeaseMs(llm.timeoutMs) };
    return c.json(
      {
        status: "ok" as const,
        destination: config.destination,
        summariser: usesLlm ? ("llm" as const) : ("extractive" as const),
        threshold: config.threshold,
        mode: config.mode,
        llm_breaker: usesLlm
          ? { ...sharedBreaker(settings).view(), failure_threshold: llm.breakerFailures, pause_ms: llm.breakerPauseMs }
          : null,
      },
      200,
    );
  });
}
