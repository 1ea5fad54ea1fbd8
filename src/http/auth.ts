/**
 * @module
 * Auth for the key-scoped routes, from the one route table (`product/scopes.ts`):
 * `Authorization: Bearer <API_TOKEN>` (root: every product, every scope) or `Bearer crk_…` (a
 * scoped key: verified against its stored hash in constant time, from the isolate's memory in the
 * steady state). With no API_TOKEN configured the root token is refused (the service never falls
 * open). `POST /v1/actions` also accepts the Autoplay connector's `X-Connector-Signature` (HMAC of
 * the raw body), keyed by each product's own connector secret where it has one, else
 * `CONNECTOR_SECRET`. Missing, unknown or revoked: 401. Valid but outside the key's scope or
 * products: 403 `out_of_scope`, before anything is read or changed.
 */
import type { Context, MiddlewareHandler } from "hono";
import { loadConfig } from "../config";
import { sourceSecret } from "../config/product";
import { looksLikeKey, parseKey, secretMatches } from "../product/apiKeys";
import { lookupKey, productSettings, touchKey } from "../product/client";
import { outOfScope, ROUTE_ACCESS, type Principal, type ScopedRouteId } from "../product/scopes";
import { constantTimeEqual, verifyConnectorSignature } from "../sources/signatures";
import type { AppEnv } from "./app";
import { readBodyText } from "./body";
import { ApiError } from "./errors";

const BEARER_CHALLENGE = { "www-authenticate": 'Bearer realm="context-relay"' };

function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message, BEARER_CHALLENGE);
}

/** The `product_id`s a JSON body names (one batch or an array), read loosely: the route's schema judges the rest. */
function bodyProductIds(raw: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return [];
  }
  const ids = (Array.isArray(body) ? body : [body]).flatMap((b: unknown) => {
    const id = b !== null && typeof b === "object" ? (b as { product_id?: unknown }).product_id : undefined;
    return typeof id === "string" ? [id] : [];
  });
  return [...new Set(ids)];
}

/** `last_used_at` off the request path: handed to `waitUntil` when the runtime gives one. */
function recordUse(c: Context<AppEnv>, id: string): void {
  const write = touchKey(c.env, id);
  if (!write) return;
  const settled = write.catch(() => undefined);
  try {
    c.executionCtx.waitUntil(settled);
  } catch {
    // No execution context (a direct app.request in a test): the write still runs.
  }
}

/** The caller a bearer credential stands for: a scoped key, or root. Throws 401 / 503. */
async function bearerPrincipal(c: Context<AppEnv>): Promise<Principal> {
  const given = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
  if (!given) throw unauthorized("missing bearer token (Authorization: Bearer <API_TOKEN or API key>)");
  if (looksLikeKey(given)) {
    const parsed = parseKey(given);
    const stored = parsed && (await lookupKey(c.env, parsed.id));
    // Hash even when the id is unknown, so timing does not tell which ids exist.
    const matches = await secretMatches(parsed?.secret ?? given, stored?.hash ?? "");
    if (!parsed || !stored || !matches || stored.revokedAt !== null) throw unauthorized("unknown or revoked API key");
    recordUse(c, stored.id);
    return { kind: "key", id: stored.id, products: stored.products, scopes: stored.scopes };
  }
  const token = loadConfig(c.env).access.apiToken;
  if (!token) throw new ApiError(503, "not_configured", "API_TOKEN is not configured; the API refuses all requests");
  if (!(await constantTimeEqual(given, token))) throw unauthorized("invalid API token");
  return { kind: "root" };
}

/**
 * The connector's signature, checked with the secret of every product the body names: a product's
 * own secret works for that product only; others use `CONNECTOR_SECRET`.
 */
async function verifySignature(c: Context<AppEnv>, signature: string, raw: string, productIds: readonly string[]): Promise<Principal> {
  const fallback = loadConfig(c.env).access.connectorSecret;
  const secrets = await Promise.all(
    (productIds.length ? productIds : [null]).map(async (p) => {
      const own = p === null ? { own: false as const } : sourceSecret(c.env, await productSettings(c.env, p), "connector_secret");
      return own.own ? own.secret : fallback;
    }),
  );
  if (secrets.some((s) => !s)) throw new ApiError(401, "unauthorized", "connector signatures are not enabled for this product (CONNECTOR_SECRET is not set)");
  for (const secret of new Set(secrets)) {
    if (!(await verifyConnectorSignature(signature, raw, secret))) {
      throw new ApiError(401, "invalid_signature", "X-Connector-Signature does not match the request body");
    }
  }
  return { kind: "source", products: productIds };
}

/**
 * The one auth middleware of the key-scoped routes: who is calling (401), then whether the route's
 * scope (from `ROUTE_ACCESS`) and every product it touches are theirs (403 `out_of_scope`). The
 * products are the path's `product_id`, or those a body names (`POST /v1/actions`).
 * @param route the route's id in `ROUTE_ACCESS`
 * @param options.allowConnectorSignature accept `X-Connector-Signature` instead (default false)
 * @example createRoute({ …, middleware: [requireAccess("POST /v1/actions", { allowConnectorSignature: true })] })
 */
export function requireAccess(route: ScopedRouteId, options: { allowConnectorSignature?: boolean } = {}): MiddlewareHandler<AppEnv> {
  const scope = ROUTE_ACCESS[route];
  const fromBody = route === "POST /v1/actions";
  return async function requireAccess(c, next) {
    const signature = options.allowConnectorSignature ? c.req.header("x-connector-signature") : undefined;
    let productIds = route.includes("{product_id}") ? [c.req.param("product_id") ?? ""] : [];
    let principal: Principal;
    if (signature !== undefined) {
      const raw = await readBodyText(c);
      productIds = bodyProductIds(raw);
      principal = await verifySignature(c, signature, raw, productIds);
    } else {
      principal = await bearerPrincipal(c);
      // Only a key limited to some products needs to know which ones the body names.
      if (fromBody && principal.kind === "key" && principal.products !== "*") productIds = bodyProductIds(await readBodyText(c));
    }
    const refusal = outOfScope(principal, scope, productIds);
    if (refusal) throw new ApiError(403, "out_of_scope", `${refusal}; nothing was read or changed`);
    c.set("principal", principal);
    await next();
  };
}

/** The root `API_TOKEN` only (401 without a credential, 403 `out_of_scope` for a scoped key). */
export function requireRoot(): MiddlewareHandler<AppEnv> {
  return async function requireRoot(c, next) {
    const principal = await bearerPrincipal(c);
    if (principal.kind !== "root") throw new ApiError(403, "out_of_scope", "only the root API_TOKEN may do this; nothing was read or changed");
    c.set("principal", principal);
    await next();
  };
}
