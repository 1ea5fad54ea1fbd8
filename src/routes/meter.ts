/**
 * @module
 * `GET /v1/meter` and `DELETE /v1/meter`: the isolate's exact counts of billed operations
 * (src/meter.ts), read and reset by the benchmark to price a load. The root API token only;
 * `404 not_found` unless `METER=on`, so a deployment without it shows nothing.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { loadConfig } from "../config";
import type { App } from "../http/app";
import { requireRoot } from "../http/auth";
import { ApiError } from "../http/errors";
import { ErrorSchema, jsonContent } from "../http/schemas";
import { meterCounts, resetMeter } from "../meter";

const counter = z.record(z.string(), z.number().int());

const MeterSchema = z
  .object({
    since: z.string().openapi({ description: "When the counters were last reset (ISO 8601)" }),
    worker_requests: z.object({ total: z.number().int(), by_route: counter }),
    do_requests: z.object({
      total: z.number().int().openapi({ description: "RPCs plus alarm invocations, as Durable Objects bill requests" }),
      rpc: z.number().int(),
      rpc_by_method: counter,
      alarms: z.number().int(),
    }),
    storage: z.object({
      sql_statements: z.number().int(),
      rows_read: z.number().int(),
      rows_written: z.number().int().openapi({ description: "SQL rows written plus one per setAlarm/deleteAlarm" }),
      alarm_writes: z.number().int(),
      by_statement: z
        .record(z.string(), z.object({ runs: z.number().int(), rows_read: z.number().int(), rows_written: z.number().int() }))
        .openapi({ description: "SQL text (whitespace folded, first 120 characters) → its runs, rows read and rows written: where the rows go" }),
    }),
    destination_calls: z.object({
      total: z.number().int(),
      by_destination: z.record(z.string(), counter).openapi({ description: "destination → post / redact / find → calls" }),
    }),
    llm: z.object({ calls: z.number().int(), prompt_tokens: z.number().int(), completion_tokens: z.number().int() }),
  })
  .openapi("Meter");

const description =
  "Benchmarking aid, not a product API: counts of what Cloudflare bills (requests, Durable Object requests, SQL rows, alarms), destination calls and LLM tokens, per isolate, since the last reset. Only with `METER=on`; otherwise 404.";
const security = [{ bearer: [] }];
const unavailable = { 401: jsonContent(ErrorSchema, "Missing or wrong API token"), 404: jsonContent(ErrorSchema, "METER is not on") };

const routes = {
  read: createRoute({
    method: "get",
    path: "/v1/meter",
    summary: "Counts of billed operations (benchmarking aid)",
    description,
    security,
    middleware: [requireRoot()] as const,
    responses: { 200: jsonContent(MeterSchema, "The counters"), ...unavailable },
  }),
  reset: createRoute({
    method: "delete",
    path: "/v1/meter",
    summary: "Reset the counters (benchmarking aid)",
    description,
    security,
    middleware: [requireRoot()] as const,
    responses: { 204: { description: "Reset" }, ...unavailable },
  }),
};

function requireMeter(env: Env): void {
  if (!loadConfig(env).meter) throw new ApiError(404, "not_found", "no such route");
}

export function registerMeter(app: App): void {
  app.openapi(routes.read, (c) => {
    requireMeter(c.env);
    return c.json(meterCounts(), 200);
  });
  app.openapi(routes.reset, (c) => {
    requireMeter(c.env);
    resetMeter();
    return c.body(null, 204);
  });
}
