/**
 * @module
 * Who may call which route: the one table, consulted by every route (`requireAccess` in
 * `http/auth.ts` for the key-scoped ones). `API_TOKEN` is root: every product, every scope. A
 * scoped key holds some of `ingest`, `read`, `admin` for some products (or `"*"`). Routes outside
 * the keys' world carry their own credential: a source secret or a publishable key. Pure.
 */

export const SCOPES = ["ingest", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** What a route needs: a key scope, or a credential of its own. */
export type AccessRule = Scope | "root" | "posthog_secret" | "publishable_key" | "public";

/**
 * Every route, as `METHOD path` (OpenAPI paths). `read` also covers every read surface later
 * issues add (MCP, stream, search, console); `admin` covers what changes a session's course or a
 * product (link, flush, erase, settings, keys).
 */
export const ROUTE_ACCESS = {
  "POST /v1/actions": "ingest",
  "POST /v1/segment/{product_id}": "ingest",
  "POST /webhook/{product_id}": "posthog_secret",
  "POST /sessions/link": "publishable_key",
  "GET /v1/products/{product_id}/sessions/{session_id}": "read",
  "GET /v1/products/{product_id}/sessions/{session_id}/context": "read",
  "GET /v1/products/{product_id}/sessions/{session_id}/timeline": "read",
  "GET /v1/products/{product_id}/sessions": "read",
  "GET /v1/products/{product_id}/users/{user_id}/sessions": "read",
  "GET /v1/products/{product_id}/users/{user_id}/activity": "read",
  "GET /v1/products/{product_id}/search": "read",
  // The MCP server; its tools check each call's product against the key (mcp/server.ts).
  "POST /mcp": "read",
  "GET /stream/{product_id}": "read",
  "GET /stream/{product_id}/stats": "read",
  "PUT /v1/products/{product_id}/sessions/{session_id}/link": "admin",
  "POST /v1/products/{product_id}/sessions/{session_id}/flush": "admin",
  "DELETE /v1/products/{product_id}/sessions/{session_id}": "admin",
  // Shows destinations and the names of the product's secrets: admin, like changing them.
  "GET /v1/products/{product_id}": "admin",
  "PUT /v1/products/{product_id}": "admin",
  "POST /v1/keys": "admin",
  "GET /v1/keys": "admin",
  "DELETE /v1/keys/{key_id}": "admin",
  // The isolate's counts across every product (a benchmarking aid): the deployment's own token only.
  "GET /v1/meter": "root",
  "DELETE /v1/meter": "root",
  "GET /healthz": "public",
  "GET /openapi.json": "public",
  // The console's page and script: no secret in them; the browser sends the key to the JSON API.
  "GET /console": "public",
  "GET /console/app.js": "public",
} as const satisfies Record<string, AccessRule>;

export type RouteId = keyof typeof ROUTE_ACCESS;
/** The routes a scoped key can call. */
export type ScopedRouteId = { [R in RouteId]: (typeof ROUTE_ACCESS)[R] extends Scope ? R : never }[RouteId];

/** The products a key covers: all of them, or a list. */
export type ProductSet = "*" | readonly string[];

/**
 * The verified caller of a key-scoped route: root (`API_TOKEN`), a scoped key, or a source's
 * signature, which vouches for ingest into the products it was checked for.
 */
export type Principal =
  | { kind: "root" }
  | { kind: "key"; id: string; products: ProductSet; scopes: readonly Scope[] }
  | { kind: "source"; products: readonly string[] };

export const covers = (products: ProductSet, productId: string): boolean => products === "*" || products.includes(productId);

/** Every product of `inner` is one of `outer`'s (a key may only hand out what it holds). */
export const coversAll = (outer: ProductSet, inner: ProductSet): boolean =>
  outer === "*" || (inner !== "*" && inner.every((p) => outer.includes(p)));

/** Why a principal may not do this, or null when it may. `productIds`: the products the request touches. */
export function outOfScope(principal: Principal, scope: Scope, productIds: readonly string[]): string | null {
  if (principal.kind === "root") return null;
  const scopes = principal.kind === "key" ? principal.scopes : ["ingest"];
  if (!scopes.includes(scope)) return `this ${principal.kind === "key" ? "key" : "signature"} has no ${scope} scope`;
  const outside = productIds.find((p) => !covers(principal.products, p));
  return outside === undefined ? null : `this key does not cover product ${JSON.stringify(outside)}`;
}
