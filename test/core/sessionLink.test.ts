import { OpenAPIHono } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/http/app";
import { ConfigError, parseAccess } from "../../src/config";
import { ApiError, errorBody } from "../../src/http/errors";
import { LINK_PATH, registerSessionLink } from "../../src/routes/postSessionLink";

const ORIGIN = "https://app.example.com";

/** The route on a bare app with a fake SESSION namespace that records link calls (`alreadyLinked`: refuses them). */
function harness(overrides: Record<string, string | undefined> = {}, alreadyLinked = false) {
  const calls: { name: string; args: unknown[] }[] = [];
  const env = {
    PUBLISHABLE_KEYS: JSON.stringify({ prod_abc: "pk_live_abc" }),
    LINK_ALLOWED_ORIGINS: `${ORIGIN}, https://other.example.com/`,
    SESSION: {
      getByName: (name: string) => ({
        linkFirst: async (...args: unknown[]) => {
          calls.push({ name, args });
          return alreadyLinked ? { already_linked: true } : { conversation_id: String(args[2]), previous: null, changed: true };
        },
      }),
    },
    ...overrides,
  };
  const app = new OpenAPIHono<AppEnv>();
  registerSessionLink(app);
  // As worker.ts maps them.
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
    if (err instanceof ConfigError) return c.json(errorBody("misconfigured", err.message), 503);
    return c.json({ unexpected: String(err) }, 500);
  });
  const send = (init: RequestInit & { query?: string } = {}) =>
    app.request(`${LINK_PATH}${init.query ?? ""}`, { method: "POST", ...init }, env as unknown as Env);
  return { app, calls, send };
}

const body = JSON.stringify({ product_id: "prod_abc", session_id: "ps_1", conversation_id: "215471234567890" });
const headers = { "content-type": "application/json", origin: ORIGIN, "x-publishable-key": "pk_live_abc" };

describe("POST /sessions/link", () => {
  it("links with the product's publishable key and answers with CORS for an allowed origin", async () => {
    const { calls, send } = harness();
    const res = await send({ headers, body });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(await res.json()).toEqual({ product_id: "prod_abc", session_id: "ps_1", conversation_id: "215471234567890", changed: true });
    expect(calls).toEqual([{ name: "prod_abc:ps_1", args: ["prod_abc", "ps_1", "215471234567890"] }]);
  });

  it("answers 409 already_linked when the session is linked to another conversation", async () => {
    const res = await harness({}, true).send({ headers, body });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("already_linked");
  });

  it("answers the preflight for allowed origins only", async () => {
    const { send } = harness();
    const preflight = (origin: string) =>
      send({ method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-publishable-key" } });
    const ok = await preflight(ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/X-Publishable-Key/i);
    expect((await preflight("https://other.example.com")).headers.get("access-control-allow-origin")).toBe("https://other.example.com");
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("accepts the key as ?key= and a numeric conversation id", async () => {
    const { calls, send } = harness();
    const numeric = JSON.stringify({ product_id: "prod_abc", session_id: "ps_2", conversation_id: 42 });
    const res = await send({ query: "?key=pk_live_abc", headers: { "content-type": "text/plain" }, body: numeric });
    expect(res.status).toBe(200);
    expect(calls[0]!.args[2]).toBe("42");
  });

  it.each([
    ["a wrong key", { ...headers, "x-publishable-key": "pk_live_nope" }, body, 401, "unauthorized"],
    ["no key", { "content-type": "application/json" }, body, 401, "unauthorized"],
    ["another product's key", headers, JSON.stringify({ product_id: "prod_xyz", session_id: "s", conversation_id: "1" }), 401, "unauthorized"],
    ["a foreign origin", { ...headers, origin: "https://evil.example" }, body, 403, "origin_not_allowed"],
    ["a body without conversation_id", headers, JSON.stringify({ product_id: "prod_abc", session_id: "s" }), 422, "invalid_link"],
    ["a conversation id with markup", headers, JSON.stringify({ product_id: "prod_abc", session_id: "s", conversation_id: "<x>" }), 422, "invalid_link"],
    ["a body that is not JSON", headers, "{", 400, "invalid_json"],
  ] as const)("refuses %s", async (_name, h, b, status, code) => {
    const { calls, send } = harness();
    const res = await send({ headers: h, body: b });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(calls).toHaveLength(0);
  });

  it("refuses everything when PUBLISHABLE_KEYS is missing (not_configured) or malformed (misconfigured)", async () => {
    for (const [value, code] of [[undefined, "not_configured"], ["not json", "misconfigured"], ['["pk"]', "misconfigured"], ['{"prod_abc":""}', "misconfigured"]] as const) {
      const { calls, send } = harness({ PUBLISHABLE_KEYS: value });
      const res = await send({ headers, body });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      expect(calls).toHaveLength(0);
    }
  });

  it("is documented in the OpenAPI document", () => {
    const doc = harness().app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    const op = doc.paths?.[LINK_PATH]?.post;
    expect(op?.security).toEqual([{ publishableKey: [] }]);
    expect(JSON.stringify(op?.requestBody)).toContain("SessionLinkRequest");
    expect(doc.components?.schemas?.SessionLinkRequest).toBeDefined();
  });

  it("parses its settings", () => {
    const origins = (value: string | undefined) => parseAccess({ LINK_ALLOWED_ORIGINS: value }).allowedOrigins;
    const keys = (value: string | undefined) => parseAccess({ PUBLISHABLE_KEYS: value }).publishableKeys;
    expect(origins(" https://a.example/ ,https://b.example:8443,, ")).toEqual(["https://a.example", "https://b.example:8443"]);
    expect(origins(undefined)).toEqual([]);
    expect(keys('{"p":"k"}')).toEqual(new Map([["p", "k"]]));
    expect(keys(undefined)).toBeNull();
  });
});
