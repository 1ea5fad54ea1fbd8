/**
 * Scoped API keys: every key-scoped route × every scope (allowed, 403 out_of_scope, 401), keys
 * for one product used on another, revocation within the cache TTL, and the key routes themselves
 * (shown once, listed without secrets, last used, product admins kept within their products).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ROUTE_ACCESS, SCOPES, type Scope, type ScopedRouteId } from "../src/product/scopes";
import { auth, batch, getState, request, uniqueSession } from "./helpers/api";
import { bearer, createKey, json, PAST_CACHE_TTL_MS, putSettings, sleep } from "./helpers/products";

const P = "acme-auth";
const OTHER = "beta-auth";

const scopedRoutes = (Object.entries(ROUTE_ACCESS) as [string, string][])
  .filter(([, rule]) => (SCOPES as readonly string[]).includes(rule))
  .map(([route, scope]) => [route as ScopedRouteId, scope as Scope] as const);

/** A plausible request for a route on a product: what a caller with the right scope would send. */
function requestFor(route: ScopedRouteId, productId: string): { method: string; path: string; body?: unknown } {
  const [method, template] = route.split(" ") as [string, string];
  const session = uniqueSession("auth");
  const path = template
    .replace("{product_id}", productId)
    .replace("{session_id}", session)
    .replace("{user_id}", "user-1")
    .replace("{key_id}", "AAAAAAAAAAAA");
  const bodies: Partial<Record<ScopedRouteId, unknown>> = {
    "POST /v1/actions": batch(productId, session, 0, 1),
    "POST /v1/segment/{product_id}": { type: "track", event: "Clicked Export", anonymousId: session, messageId: crypto.randomUUID() },
    "PUT /v1/products/{product_id}/sessions/{session_id}/link": { conversation_id: "conv-1" },
    "PUT /v1/products/{product_id}": {},
    "POST /v1/keys": { name: "made-in-matrix", products: [productId], scopes: ["read"] },
  };
  return { method, path, body: bodies[route] };
}

function call(route: ScopedRouteId, productId: string, headers: Record<string, string>): Promise<Response> {
  const { method, path, body } = requestFor(route, productId);
  return request(path, { method, headers: { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe("every key-scoped route × every scope", () => {
  it("lists every route the app serves in the one table, each with its rule", async () => {
    const doc = (await (await request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const served = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(served.sort()).toEqual(Object.keys(ROUTE_ACCESS).filter((r) => r !== "GET /openapi.json").sort());
  });

  it.each(scopedRoutes)("%s (%s): its scope passes, the others get 403 out_of_scope, no or a bad credential 401", async (route, scope) => {
    const keys = Object.fromEntries(await Promise.all(SCOPES.map(async (s) => [s, (await createKey(`only-${s}`, [P], [s])).key] as const)));
    for (const s of SCOPES) {
      const res = await call(route, P, bearer(keys[s]!));
      if (s === scope) expect([401, 403], `${s} on ${route}`).not.toContain(res.status);
      else expect(await json(res), `${s} on ${route}`).toMatchObject({ status: 403, body: { error: { code: "out_of_scope" } } });
    }
    expect([401, 403]).not.toContain((await call(route, P, auth)).status);
    expect((await call(route, P, {})).status).toBe(401);
    expect((await call(route, P, bearer("crk_AAAAAAAAAAAA_" + "A".repeat(43)))).status).toBe(401);
    expect((await call(route, P, bearer("crk_not-a-key"))).status).toBe(401);
  });

  it.each(scopedRoutes.filter(([route]) => route.includes("{product_id}") || route === "POST /v1/actions"))(
    "%s: a key with every scope for another product gets 403 out_of_scope",
    async (route) => {
      const { key } = await createKey("other-product", [OTHER], [...SCOPES]);
      expect(await json(await call(route, P, bearer(key)))).toMatchObject({ status: 403, body: { error: { code: "out_of_scope" } } });
    },
  );
});

describe("a key outside its scope changes nothing", () => {
  it("an ingest key for A posting a batch for B stores nothing, even next to a batch for A", async () => {
    const { key } = await createKey("ingest-a", [P], ["ingest"]);
    const [a, b] = [uniqueSession(), uniqueSession()];
    const res = await request("/v1/actions", { method: "POST", headers: bearer(key), body: JSON.stringify([batch(P, a, 0, 1), batch(OTHER, b, 0, 1)]) });
    expect(await json(res)).toMatchObject({ status: 403, body: { error: { code: "out_of_scope", message: expect.stringContaining(OTHER) } } });
    expect((await getState(P, a)).status).toBe(404);
    expect((await getState(OTHER, b)).status).toBe(404);
    const ok = await request("/v1/actions", { method: "POST", headers: bearer(key), body: JSON.stringify(batch(P, a, 0, 1)) });
    expect(ok.status).toBe(202);
  });

  it("a read key cannot change a product's settings", async () => {
    const product = `${P}-settings`;
    expect((await putSettings(product, { threshold: 7 })).status).toBe(200);
    const { key } = await createKey("reader", [product], ["read"]);
    expect((await putSettings(product, { threshold: 3 }, bearer(key))).status).toBe(403);
    const { body } = await json(await request(`/v1/products/${product}`, { headers: auth }));
    expect(body.settings).toEqual({ threshold: 7 });
  });

  it("a key for every product (\"*\") reaches any product", async () => {
    const { key } = await createKey("reader-all", "*", ["read"]);
    const s = uniqueSession();
    await request("/v1/actions", { method: "POST", headers: auth, body: JSON.stringify(batch(OTHER, s, 0, 1)) });
    expect((await request(`/v1/products/${OTHER}/sessions/${s}`, { headers: bearer(key) })).status).toBe(200);
  });
});

describe("the keys", () => {
  it("are shown once, listed without secrets, with last use; revocation applies within the cache TTL", async () => {
    const created = await json(await request("/v1/keys", { method: "POST", headers: auth, body: JSON.stringify({ name: "ci", products: [P], scopes: ["read", "read"] }) }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "ci", products: [P], scopes: ["read"], revoked: false, last_used_at: null });
    const { id, key } = created.body as { id: string; key: string };
    expect(key).toMatch(/^crk_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);

    const path = `/v1/products/${P}/sessions`;
    expect((await request(path, { headers: bearer(key as string) })).status).toBe(200);
    let listed: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !listed?.last_used_at; i++) {
      const { body } = await json(await request("/v1/keys", { headers: auth }));
      listed = (body.keys as Record<string, unknown>[]).find((k) => k.id === id);
      if (!listed?.last_used_at) await sleep(20);
    }
    expect(listed).toMatchObject({ id, name: "ci", revoked: false, last_used_at: expect.any(String) });
    const everything = JSON.stringify((await json(await request("/v1/keys", { headers: auth }))).body);
    expect(everything).not.toContain((key as string).slice(17));
    expect(everything).not.toMatch(/hash/);

    expect((await request(`/v1/keys/${id}`, { method: "DELETE", headers: auth })).status).toBe(204);
    await sleep(PAST_CACHE_TTL_MS);
    expect(await json(await request(path, { headers: bearer(key as string) }))).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    const after = (await json(await request("/v1/keys", { headers: auth }))).body.keys as Record<string, unknown>[];
    expect(after.find((k) => k.id === id)).toMatchObject({ revoked: true, revoked_at: expect.any(String) });
    expect((await request(`/v1/keys/${id}`, { method: "DELETE", headers: auth })).status).toBe(204);
    expect((await request("/v1/keys/BBBBBBBBBBBB", { method: "DELETE", headers: auth })).status).toBe(404);
  });

  it("a key revoked elsewhere (another isolate) is refused here once this isolate's memory of it ends (KEY_CACHE_TTL_MS)", async () => {
    const { id, key } = await createKey("cached", [P], ["read"]);
    const path = `/v1/products/${P}/sessions`;
    expect((await request(path, { headers: bearer(key) })).status).toBe(200);
    // Revoked behind this isolate's back (as another isolate would): the cached answer holds until its TTL.
    await env.PRODUCT.getByName("*").revokeKey(id);
    await sleep(PAST_CACHE_TTL_MS);
    expect((await request(path, { headers: bearer(key) })).status).toBe(401);
  });

  it("refuses a bad key body naming the field", async () => {
    for (const [body, field] of [
      [{ name: "x", products: [], scopes: ["read"] }, "products"],
      [{ name: "x", products: ["a:b"], scopes: ["read"] }, "products"],
      [{ name: "x", products: "*", scopes: ["write"] }, "scopes"],
      [{ name: "", products: "*", scopes: ["read"] }, "name"],
    ] as const) {
      const res = await json(await request("/v1/keys", { method: "POST", headers: auth, body: JSON.stringify(body) }));
      expect(res).toMatchObject({ status: 422, body: { error: { code: "invalid_key", message: expect.stringContaining(field) } } });
    }
  });

  it("a product admin manages keys within its products only", async () => {
    const { key: admin } = await createKey("admin-a", [P], ["admin"]);
    const { id: foreign } = await createKey("foreign", [OTHER], ["read"]);
    const mint = (products: unknown) => request("/v1/keys", { method: "POST", headers: bearer(admin), body: JSON.stringify({ name: "n", products, scopes: ["ingest"] }) });
    expect((await mint([P])).status).toBe(201);
    expect((await mint([P, OTHER])).status).toBe(403);
    expect((await mint("*")).status).toBe(403);
    const { body } = await json(await request("/v1/keys", { headers: bearer(admin) }));
    const products = (body.keys as { products: unknown }[]).map((k) => k.products);
    expect(products.every((p) => JSON.stringify(p) === JSON.stringify([P]))).toBe(true);
    expect((await request(`/v1/keys/${foreign}`, { method: "DELETE", headers: bearer(admin) })).status).toBe(403);
  });
});
