/**
 * @module
 * `GET /healthz`: liveness and the configuration a deployer wants to see at a glance, broken
 * settings included (names and messages). The only route without a credential, so it shows no
 * secret and no session data. Unusable core settings answer 503 `misconfigured`, like every
 * route that needs them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { loadConfig, need } from "../config";
import type { App } from "../http/app";
import { BreakerViewSchema, ErrorSchema } from "../http/schemas";
import { llmBreaker } from "../llm/breaker";
import { usesLlm } from "../llm/createSummariser";

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
    misconfigured: z
      .array(z.object({ setting: z.string(), message: z.string() }))
      .openapi({ description: "Settings that are set but unusable; the routes that need one answer 503 misconfigured, the steps park." }),
  })
  .openapi("Health");

const route = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness",
  responses: {
    200: { description: "Service is up", content: { "application/json": { schema: HealthSchema } } },
    503: { description: "A core setting is unusable (`misconfigured`)", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export function registerHealth(app: App): void {
  app.openapi(route, (c) => {
    const config = loadConfig(c.env);
    const core = need(config.core);
    const { llm } = core;
    return c.json(
      {
        status: "ok" as const,
        destination: config.destinationName,
        summariser: usesLlm(llm) ? ("llm" as const) : ("extractive" as const),
        threshold: core.threshold,
        mode: core.mode,
        llm_breaker: usesLlm(llm)
          ? { ...llmBreaker(llm).view(), failure_threshold: llm.breakerFailures, pause_ms: llm.breakerPauseMs }
          : null,
        misconfigured: config.problems.map(({ setting, message }) => ({ setting, message })),
      },
      200,
    );
  });
}
