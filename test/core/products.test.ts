import { describe, expect, it } from "vitest";
import { parseConfig, sessionConfigOf, type Vars } from "../../src/config";
import { checkProductSettings, productConfig } from "../../src/config/product";
import { generateKey, parseKey, secretMatches } from "../../src/product/apiKeys";
import { decodeCursor, encodeCursor } from "../../src/product/cursor";
import { outOfScope, ROUTE_ACCESS, type Principal } from "../../src/product/scopes";
import { statusOf } from "../../src/product/sessionIndex";
import { TtlCache } from "../../src/product/ttlCache";
import { INDEX_ACTIVITY_INTERVAL_MS, indexDueAt, indexState, userUnindexed } from "../../src/session/indexing";
import type { SessionRow, StepRow } from "../../src/session/store/schema";

describe("the route → scope table", () => {
  it("gives ingest the ingest routes, read the read surfaces, admin what changes a session or a product", () => {
    const byRule = (rule: string) => Object.entries(ROUTE_ACCESS).filter(([, r]) => r === rule).map(([route]) => route);
    expect(byRule("ingest")).toEqual(["POST /v1/actions", "POST /v1/segment/{product_id}"]);
    expect(byRule("read")).toEqual([
      "GET /v1/products/{product_id}/sessions/{session_id}",
      "GET /v1/products/{product_id}/sessions/{session_id}/context",
      "GET /v1/products/{product_id}/sessions/{session_id}/timeline",
      "GET /v1/products/{product_id}/sessions",
      "GET /v1/products/{product_id}/users/{user_id}/sessions",
      "GET /v1/products/{product_id}/users/{user_id}/activity",
      "GET /v1/products/{product_id}/search",
      "POST /mcp",
      "GET /stream/{product_id}",
      "GET /stream/{product_id}/stats",
    ]);
    expect(byRule("admin")).toEqual([
      "PUT /v1/products/{product_id}/sessions/{session_id}/link",
      "POST /v1/products/{product_id}/sessions/{session_id}/flush",
      "DELETE /v1/products/{product_id}/sessions/{session_id}",
      "GET /v1/products/{product_id}",
      "PUT /v1/products/{product_id}",
      "POST /v1/keys",
      "GET /v1/keys",
      "DELETE /v1/keys/{key_id}",
    ]);
  });

  it.each<[string, Principal, "ingest" | "read" | "admin", string[], RegExp | null]>([
    ["root, anything", { kind: "root" }, "admin", ["a", "b"], null],
    ["a key within scope and products", { kind: "key", id: "k", products: ["a"], scopes: ["read"] }, "read", ["a"], null],
    ["a key for every product", { kind: "key", id: "k", products: "*", scopes: ["admin"] }, "admin", ["zz"], null],
    ["a key without the scope", { kind: "key", id: "k", products: "*", scopes: ["read", "ingest"] }, "admin", ["a"], /no admin scope/],
    ["a key for another product", { kind: "key", id: "k", products: ["a"], scopes: ["read"] }, "read", ["b"], /does not cover product "b"/],
    ["one product of several outside", { kind: "key", id: "k", products: ["a"], scopes: ["ingest"] }, "ingest", ["a", "b"], /"b"/],
    ["a source signature, for ingest", { kind: "source", products: ["a"] }, "ingest", ["a"], null],
    ["a source signature, for reading", { kind: "source", products: ["a"] }, "read", ["a"], /no read scope/],
  ])("%s", (_label, principal, scope, products, refusal) => {
    const got = outOfScope(principal, scope, products);
    if (refusal === null) expect(got).toBeNull();
    else expect(got).toMatch(refusal);
  });
});

describe("API keys", () => {
  it("are crk_<id>_<secret>; only the secret's hash verifies, in full", async () => {
    const { id, key, hash } = await generateKey();
    const parsed = parseKey(key)!;
    expect(parsed.id).toBe(id);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain(hash);
    expect(await secretMatches(parsed.secret, hash)).toBe(true);
    expect(await secretMatches(parsed.secret.slice(0, -1) + (parsed.secret.endsWith("A") ? "B" : "A"), hash)).toBe(false);
    expect(parseKey("crk_short_secret")).toBeNull();
    expect(parseKey(key + "x")).toBeNull();
    expect((await generateKey()).id).not.toBe(id);
  });
});

describe("the listing cursor", () => {
  it("round-trips a position and refuses anything that is not one", () => {
    const position = { lastActivityAt: 1_796_000_000_000, sessionId: "sess-ü/1" };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(encodeCursor(position)).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const bad of ["", "!!", "bm90IGpzb24", encodeCursor(position).slice(0, -3) + "@@@", btoa("[1.5,\"x\"]"), btoa("{}")]) {
      expect(decodeCursor(bad), bad).toBeNull();
    }
  });
});

describe("session status", () => {
  const now = 10_000_000;
  it.each([
    ["parked wins over everything", { step: { key: "k", kind: "deliver", attempts: 8, last_error: "x", parked: true }, link: "c", last_activity_at: 0 }, "parked"],
    ["quiet for the idle time", { step: null, link: "c", last_activity_at: now - 1_000 }, "idle"],
    ["active with a link", { step: null, link: "c", last_activity_at: now - 999 }, "linked"],
    ["active", { step: { key: "k", kind: "deliver", attempts: 2, last_error: "x", parked: false }, link: null, last_activity_at: now }, "active"],
  ] as const)("%s", (_label, e, status) => {
    expect(statusOf(e, now, 1_000)).toBe(status);
  });
});

describe("when the index entry is due", () => {
  const session = (over: Partial<SessionRow> = {}) =>
    ({ user_id: "u", link: null, last_action_at: 5_000, indexed_state: null, indexed_activity_at: null, indexed_at: null, ...over }) as SessionRow;
  const step = (key: string, parked: boolean, kind = "deliver") => ({ key, kind, parked_at: parked ? 1 : null, attempts: 1 }) as StepRow;

  it("at once when created, linked, parked or recovered; a minute after the last write for activity; never when current", () => {
    expect(indexDueAt(session(), [])).toBe(0);
    const written = session({ indexed_state: indexState(session(), []), indexed_activity_at: 5_000, indexed_at: 6_000 });
    expect(indexDueAt(written, [])).toBeNull();
    expect(indexDueAt({ ...written, link: "c" }, [])).toBe(0);
    expect(indexDueAt(written, [step("deliver:1", true)])).toBe(0);
    expect(indexDueAt(written, [step("deliver:1", false)])).toBeNull();
    const parked = { ...written, indexed_state: indexState(written, [step("deliver:1", true)]) };
    expect(indexDueAt(parked, [])).toBe(0);
    expect(indexDueAt({ ...written, last_action_at: 7_000 }, [])).toBe(6_000 + INDEX_ACTIVITY_INTERVAL_MS);
    // The index step's own trouble never makes it due (it could not report itself).
    expect(indexDueAt(written, [step("index", true, "index")])).toBeNull();
  });

  it("a session the index cannot find by its user yet is written without waiting for the other lanes, and again a minute later", () => {
    expect(userUnindexed(session())).toBe(true);
    expect(userUnindexed(session({ user_id: null }))).toBe(false);
    const written = session({ indexed_state: indexState(session(), []), indexed_activity_at: 5_000, indexed_at: 6_000 });
    expect(userUnindexed(written)).toBe(false);
    expect(userUnindexed({ ...written, user_id: "someone-else" })).toBe(true);
    // An early write records no activity (indexSession.ts): the settled entry follows with the next activity write.
    expect(indexDueAt({ ...written, indexed_activity_at: null }, [])).toBe(6_000 + INDEX_ACTIVITY_INTERVAL_MS);
  });
});

describe("product settings", () => {
  // Fake, test-only secrets: "whsec_" and the base64 of "FAKE-test-only-…-webhook-secret".
  const vars: Vars = { WEBHOOK_URL: "https://env.test/hook", WEBHOOK_SECRET: "whsec_RkFLRS10ZXN0LW9ubHktZW52LXdlYmhvb2stc2VjcmV0", DESTINATION: "webhook" };
  // Secrets a deployment adds for its products, under names `Env` does not declare.
  const withSecrets = { ...vars, HOOK_ACME: "whsec_RkFLRS10ZXN0LW9ubHktYWNtZS13ZWJob29rLXNlY3JldA==", BAD_WHSEC: "whsec_!!" } as Vars;

  it("with none, a product runs exactly as the environment is configured", () => {
    const config = parseConfig(vars);
    expect(productConfig(config, vars, null)).toEqual(sessionConfigOf(config));
    expect(productConfig(config, vars, {})).toEqual(sessionConfigOf(config));
    expect(sessionConfigOf(config).lanes.map((l) => JSON.parse(l.entry))).toEqual([{ type: "webhook", url: "https://env.test/hook", secret: { env: "WEBHOOK_SECRET" } }]);
  });

  it("overlay the environment: own K and destination, the rest inherited; secrets resolved by name at use", () => {
    const config = parseConfig(withSecrets);
    const entry = { type: "webhook" as const, url: "https://acme.test/hook", secret: { env: "HOOK_ACME" } };
    const own = productConfig(config, withSecrets, { threshold: 3, destinations: [entry] });
    expect(own).toMatchObject({ threshold: 3, mode: "rolling", destination: "webhook" });
    expect(own.lanes.map((l) => JSON.parse(l.entry))).toEqual([entry]);
    expect(own.lanes[0]!.settings).toMatchObject({ kind: "webhook", url: "https://acme.test/hook" });
    // The secret was removed since the PUT: the destination's steps park with a message naming the field.
    const gone = productConfig(parseConfig(vars), vars, { destinations: [entry] }).lanes[0]!.settings;
    expect(gone).toBeInstanceOf(Error);
    expect((gone as Error).message).toMatch(/destinations\[0\]\.secret/);
  });

  it.each([
    [{ threshold: 1001 }, "threshold", /^threshold must be an integer from 1 to 1000/],
    [{ debounce: 700_000 }, "debounce", /^debounce must be/],
    [{ idle: 60_000, retention: 60_000 }, "retention", /^retention \(60000\) must be longer than idle \(60000\)/],
    [{ connector_secret: { env: "MISSING" } }, "connector_secret", /^connector_secret\.env names MISSING, which is not set/],
    [{ destinations: [{ type: "webhook" as const, url: "https://a.test", secret: { env: "bad name" } }] }, "destinations[0].secret", /env must be a variable name/],
    [{ destinations: [{ type: "webhook" as const, url: "https://a.test", secret: { env: "BAD_WHSEC" } }] }, "destinations[0].secret", /^destinations\[0\]\.secret must be whsec_ followed by base64$/],
  ])("refuses %j naming %s", (settings, field, message) => {
    const problem = checkProductSettings(settings, withSecrets);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toMatch(message);
  });

  it("accepts settings whose secrets are set, and never puts a secret's value in a message", () => {
    expect(checkProductSettings({ threshold: 3, destinations: [{ type: "webhook", url: "https://a.test", secret: { env: "HOOK_ACME" } }] }, withSecrets)).toBeNull();
    const bad = checkProductSettings({ destinations: [{ type: "webhook", url: "ftp://x", secret: { env: "HOOK_ACME" } }] }, withSecrets);
    expect(JSON.stringify(bad)).not.toContain("YWNtZS13ZWJob29r");
  });
});

describe("the isolate's TTL cache", () => {
  it("answers from memory within the TTL, shares one fetch between concurrent misses, forgets failures and the oldest past its size", async () => {
    const cache = new TtlCache<number>(2);
    let fetches = 0;
    const fetch = async () => ++fetches;
    expect(await Promise.all([cache.get("a", 100, 0, fetch), cache.get("a", 100, 0, fetch)])).toEqual([1, 1]);
    expect(await cache.get("a", 100, 99, fetch)).toBe(1);
    expect(await cache.get("a", 100, 100, fetch)).toBe(2);
    await expect(cache.get("b", 100, 0, () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await cache.get("b", 100, 1, fetch)).toBe(3);
    await cache.get("c", 100, 1, fetch);
    expect(await cache.get("a", 100, 101, fetch)).toBe(5);
    cache.forget("c");
    expect(await cache.get("c", 100, 102, fetch)).toBe(6);
  });
});
