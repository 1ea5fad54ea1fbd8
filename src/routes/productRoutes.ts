/**
 * @module
 * A product's settings: `PUT /v1/products/:p` (replaces them whole; absent fields take the
 * environment's value) and `GET /v1/products/:p` (the stored settings and what its sessions run
 * with). Secrets are named (`{"env": "NAME"}`), checked to be set at `PUT`, and never stored or
 * shown. A change applies to new work within `SETTINGS_CACHE_TTL_MS` (60 s); notes already posted
 * stay where they went and are redacted there.
 */
import { createRoute } from "@hono/zod-openapi";
import { loadConfig } from "../config";
import { checkProductSettings, productConfig, type ProductSettings } from "../config/product";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { jsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { ProductParam, ProductSettingsSchema, ProductViewSchema } from "../http/productSchemas";
import { ErrorSchema, jsonContent, keyAuthResponses } from "../http/schemas";
import { rejectInvalid } from "../http/validate";
import { forgetSettings, productStub } from "../product/client";

const PATH = "/v1/products/{product_id}";
const security = [{ bearer: [] }];

const routes = {
  put: createRoute({
    method: "put",
    path: PATH,
    tags: ["products"],
    summary: "Set a product's settings",
    description:
      "Replaces the product's settings: any of threshold, mode, prompt, format, debounce, idle, retention (ms), memory, destinations " +
      "(one entry: `{type, …settings}`, secrets as `{\"env\": \"NAME\"}`), connector_secret, posthog_webhook_secret. " +
      "Absent fields take the environment's value. New work uses them within 60 s.",
    security,
    middleware: [requireAccess("PUT /v1/products/{product_id}"), jsonBody(65_536)] as const,
    request: { params: ProductParam, body: { content: { "application/json": { schema: ProductSettingsSchema } }, required: true } },
    responses: {
      200: jsonContent(ProductViewSchema, "Stored"),
      ...keyAuthResponses,
      422: jsonContent(ErrorSchema, "A setting is invalid, or a secret name is not set (`invalid_settings`, naming the field); nothing stored"),
    },
  }),
  get: createRoute({
    method: "get",
    path: PATH,
    tags: ["products"],
    summary: "A product's settings and what its sessions run with",
    security,
    middleware: requireAccess("GET /v1/products/{product_id}"),
    request: { params: ProductParam },
    responses: { 200: jsonContent(ProductViewSchema, "The product"), ...keyAuthResponses },
  }),
};

function productView(env: Env, productId: string, stored: { settings: ProductSettings; updatedAt: number } | null) {
  const settings = stored?.settings ?? null;
  const base = loadConfig(env);
  const config = productConfig(base, env, settings);
  const envEntry = base.destinationEntry;
  return {
    product_id: productId,
    settings: settings ?? {},
    updated_at: stored ? new Date(stored.updatedAt).toISOString() : null,
    effective: {
      threshold: config.threshold,
      mode: config.mode,
      prompt: config.prompt,
      format: config.formatter,
      debounce: config.debounceMs,
      idle: config.idleMs,
      retention: config.retentionMs,
      memory: config.memory ? ("on" as const) : ("off" as const),
      destinations: settings?.destinations ?? (envEntry ? [envEntry] : []),
    },
  };
}

export function registerProductRoutes(app: App): void {
  app.openapi(
    routes.put,
    async (c) => {
      const { product_id } = c.req.valid("param");
      const settings = c.req.valid("json");
      const problem = checkProductSettings(settings, c.env);
      if (problem) throw new ApiError(422, "invalid_settings", problem.message);
      const stored = await productStub(c.env, product_id).putSettings(settings);
      forgetSettings(product_id);
      return c.json(productView(c.env, product_id, stored), 200);
    },
    rejectInvalid({ param: "invalid_path", json: "invalid_settings" }),
  );

  app.openapi(
    routes.get,
    async (c) => {
      const { product_id } = c.req.valid("param");
      return c.json(productView(c.env, product_id, await productStub(c.env, product_id).settings()), 200);
    },
    rejectInvalid({ param: "invalid_path" }),
  );
}
