/**
 * @module
 * Scoped API keys: `POST /v1/keys` (the key is in this answer only), `GET /v1/keys` (no secrets),
 * `DELETE /v1/keys/:key_id` (revoked everywhere within `KEY_CACHE_TTL_MS`, 60 s). They live in
 * the registry (the product actor named `*`). Root and keys with `admin` for `"*"` manage every
 * key; a key with `admin` for some products manages the keys within those products only, so it
 * can never hand out more than it holds.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { App, AppEnv } from "../http/app";
import { requireAccess } from "../http/auth";
import { jsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { CreatedKeySchema, CreateKeySchema, KeyInfoSchema, KeyParam } from "../http/productSchemas";
import { ErrorSchema, jsonContent, keyAuthResponses } from "../http/schemas";
import { rejectInvalid } from "../http/validate";
import { forgetKey, registryStub } from "../product/client";
import { coversAll, type ProductSet } from "../product/scopes";
import type { KeyInfo } from "../productActor";

const security = [{ bearer: [] }];
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function keyView(k: KeyInfo) {
  return {
    id: k.id,
    name: k.name,
    products: k.products === "*" ? ("*" as const) : [...k.products],
    scopes: [...k.scopes],
    created_at: new Date(k.createdAt).toISOString(),
    last_used_at: iso(k.lastUsedAt),
    revoked: k.revokedAt !== null,
    revoked_at: iso(k.revokedAt),
  };
}

/** The products the caller administers: every one for root. */
function administered(c: Context<AppEnv>): ProductSet {
  const principal = c.get("principal");
  return principal.kind === "key" ? principal.products : "*";
}

const routes = {
  create: createRoute({
    method: "post",
    path: "/v1/keys",
    tags: ["keys"],
    summary: "Create a scoped API key (shown once)",
    security,
    middleware: [requireAccess("POST /v1/keys"), jsonBody(16_384)] as const,
    request: { body: { content: { "application/json": { schema: CreateKeySchema } }, required: true } },
    responses: {
      201: jsonContent(CreatedKeySchema, "Created; `key` is shown this once"),
      ...keyAuthResponses,
      422: jsonContent(ErrorSchema, "Invalid body (`invalid_key`)"),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/keys",
    tags: ["keys"],
    summary: "List API keys (no secrets)",
    security,
    middleware: requireAccess("GET /v1/keys"),
    responses: { 200: jsonContent(z.object({ keys: z.array(KeyInfoSchema) }).openapi("ApiKeyList"), "The keys"), ...keyAuthResponses },
  }),
  revoke: createRoute({
    method: "delete",
    path: "/v1/keys/{key_id}",
    tags: ["keys"],
    summary: "Revoke an API key (effective everywhere within 60 s)",
    security,
    middleware: requireAccess("DELETE /v1/keys/{key_id}"),
    request: { params: KeyParam },
    responses: { 204: { description: "Revoked" }, ...keyAuthResponses, 404: jsonContent(ErrorSchema, "No such key (`key_not_found`)") },
  }),
};

const outOfScope = (message: string) => new ApiError(403, "out_of_scope", `${message}; nothing was changed`);

export function registerKeyRoutes(app: App): void {
  app.openapi(
    routes.create,
    async (c) => {
      const input = c.req.valid("json");
      if (!coversAll(administered(c), input.products)) throw outOfScope("a key can only create keys for products it covers");
      const created = await registryStub(c.env).createKey(input);
      return c.json({ ...keyView(created), key: created.key }, 201);
    },
    rejectInvalid({ json: "invalid_key" }),
  );

  app.openapi(routes.list, async (c) => {
    const mine = administered(c);
    const keys = (await registryStub(c.env).listKeys()).filter((k) => coversAll(mine, k.products));
    return c.json({ keys: keys.map(keyView) }, 200);
  });

  app.openapi(
    routes.revoke,
    async (c) => {
      const { key_id } = c.req.valid("param");
      const registry = registryStub(c.env);
      const existing = await registry.key(key_id);
      if (!existing) throw new ApiError(404, "key_not_found", "no such API key");
      if (!coversAll(administered(c), existing.products)) throw outOfScope("a key can only revoke keys within the products it covers");
      await registry.revokeKey(key_id);
      forgetKey(key_id);
      return c.body(null, 204);
    },
    rejectInvalid({ param: "invalid_path" }),
  );
}
