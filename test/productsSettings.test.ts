/**
 * Per-product settings: validation (422 naming the field, nothing stored), secrets named and never
 * shown, per-product connector and PostHog secrets that work for their product only, two
 * products with different K and destinations in one deployment, and notes redacted where they
 * were posted after the destination changes.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../src/sources/signatures";
import cdpDefault from "./fixtures/posthog/cdp-default.json";
import { auth, batch, getState, postActions, request, settle, uniqueSession } from "./helpers/api";
import { json, PAST_CACHE_TTL_MS, productStub, projectSecrets, putSettings, sleep } from "./helpers/products";
import { installWorld } from "./helpers/world";

const webhookB = (url = "https://hooks.test/b") => ({ type: "webhook", url, secret: { env: "WEBHOOK_SECRET_B" } });

describe("PUT and GET /v1/products/:p", () => {
  it("stores the settings, shows them with what sessions run with, and never a secret's value", async () => {
    const p = uniqueSession("settings");
    const res = await json(await putSettings(p, { threshold: 4, mode: "independent", destinations: [webhookB()] }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      product_id: p,
      settings: { threshold: 4, mode: "independent", destinations: [webhookB()] },
      effective: { threshold: 4, mode: "independent", format: "numbered", debounce: 0, idle: 1_800_000, destinations: [webhookB()] },
    });
    const shown = await request(`/v1/products/${p}`, { headers: auth });
    expect(shown.status).toBe(200);
    const text = await shown.text();
    expect(text).not.toContain(projectSecrets.WEBHOOK_SECRET_B);
    expect(JSON.parse(text)).toEqual(res.body);
  });

  it("a change made elsewhere (another isolate) reaches this isolate's sessions within SETTINGS_CACHE_TTL_MS", async () => {
    const p = uniqueSession("elsewhere");
    const first = uniqueSession();
    await postActions(batch(p, first, 0, 1));
    expect((await getState(p, first)).body.threshold).toBe(10);
    // Written behind this isolate's back, as a PUT answered by another isolate would be.
    await productStub(p).putSettings({ threshold: 2 });
    await sleep(PAST_CACHE_TTL_MS);
    const later = uniqueSession();
    await postActions(batch(p, later, 0, 1));
    expect((await getState(p, later)).body.threshold).toBe(2);
    expect((await getState(p, first)).body.threshold).toBe(2);
  });

  it("a product without settings shows the environment's", async () => {
    const { body } = await json(await request(`/v1/products/${uniqueSession("none")}`, { headers: auth }));
    expect(body).toMatchObject({ settings: {}, updated_at: null, effective: { threshold: 10, mode: "rolling", memory: "on", destinations: [{ type: "store" }] } });
  });

  it.each([
    ["an unknown field", { thresold: 3 }, /thresold/],
    ["a threshold out of range", { threshold: 0 }, /^threshold must be an integer from 1 to 1000/],
    ["a retention not longer than idle", { idle: 120_000, retention: 60_000 }, /^retention \(60000\) must be longer than idle \(120000\)/],
    ["a prompt without {actions}", { prompt: "Summarise." }, /^prompt must contain the placeholder/],
    ["an unknown destination type", { destinations: [{ type: "zendesk" }] }, /destinations\[0\]/],
    ["two destinations (fan-out is the next issue)", { destinations: [{ type: "store" }, { type: "store" }] }, /destinations/],
    ["an inline secret", { destinations: [{ type: "webhook", url: "https://h.test", secret: "whsec_c2VjcmV0LXZhbHVlLWdpdmVuLWlubGluZQ==" }] }, /^destinations\[0\]\.secret: a secret is named, never given/],
    ["a secret name that is not set", { destinations: [{ type: "webhook", url: "https://h.test", secret: { env: "NO_SUCH_SECRET" } }] }, /^destinations\[0\]\.secret\.env names NO_SUCH_SECRET, which is not set/],
    ["the root token as a secret", { connector_secret: { env: "API_TOKEN" } }, /^connector_secret\.env must not name API_TOKEN/],
    ["a webhook URL that is not http(s)", { destinations: [{ type: "webhook", url: "ftp://h.test", secret: { env: "WEBHOOK_SECRET_B" } }] }, /^destinations\[0\]\.url must be an http\(s\) URL/],
    ["an Intercom admin id that is not numeric", { destinations: [{ type: "intercom", access_token: { env: "WEBHOOK_SECRET_B" }, admin_id: "bob" }] }, /^destinations\[0\]\.admin_id must be a numeric admin id/],
  ])("refuses %s with 422 naming the field, and stores nothing", async (_label, settings, message) => {
    const p = uniqueSession("bad");
    expect((await putSettings(p, { threshold: 9 })).status).toBe(200);
    const res = await json(await putSettings(p, settings));
    expect(res).toMatchObject({ status: 422, body: { error: { code: "invalid_settings", message: expect.stringMatching(message) } } });
    expect(JSON.stringify(res.body)).not.toContain("c2VjcmV0LXZhbHVlLWdpdmVuLWlubGluZQ");
    expect((await json(await request(`/v1/products/${p}`, { headers: auth }))).body.settings).toEqual({ threshold: 9 });
  });
});

describe("per-product source secrets", () => {
  it("a product's connector secret signs for that product only; the environment's no longer does", async () => {
    const [acme, other] = [uniqueSession("conn-acme"), uniqueSession("conn-other")];
    expect((await putSettings(acme, { connector_secret: { env: "CONNECTOR_SECRET_ACME" } })).status).toBe(200);
    const signed = async (productId: string, secret: string) => {
      const raw = JSON.stringify(batch(productId, uniqueSession(), 0, 1));
      const res = await request("/v1/actions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-connector-signature": `sha256=${await hmacSha256Hex(secret, raw)}` },
        body: raw,
      });
      return res.status;
    };
    expect(await signed(acme, projectSecrets.CONNECTOR_SECRET_ACME)).toBe(202);
    expect(await signed(acme, env.CONNECTOR_SECRET)).toBe(401);
    expect(await signed(other, projectSecrets.CONNECTOR_SECRET_ACME)).toBe(401);
    expect(await signed(other, env.CONNECTOR_SECRET)).toBe(202);
  });

  it("a product's PostHog secret works for that product only", async () => {
    const [acme, other] = [uniqueSession("ph-acme"), uniqueSession("ph-other")];
    expect((await putSettings(acme, { posthog_webhook_secret: { env: "POSTHOG_SECRET_ACME" } })).status).toBe(200);
    const post = (productId: string, secret: string) =>
      request(`/webhook/${productId}`, { method: "POST", headers: { "content-type": "application/json", "x-posthog-secret": secret }, body: JSON.stringify(cdpDefault) });
    expect((await post(acme, projectSecrets.POSTHOG_SECRET_ACME)).status).toBe(202);
    expect((await post(acme, env.POSTHOG_WEBHOOK_SECRET)).status).toBe(401);
    expect((await post(other, projectSecrets.POSTHOG_SECRET_ACME)).status).toBe(401);
    expect((await post(other, env.POSTHOG_WEBHOOK_SECRET)).status).toBe(202);
  });
});

describe("two products in one deployment", () => {
  let installed: ReturnType<typeof installWorld>;
  beforeEach(() => {
    installed = installWorld({ secret: projectSecrets.WEBHOOK_SECRET_B });
  });
  afterEach(() => {
    installed.restore();
    expect(installed.world.violations).toEqual([]);
  });

  it("run with their own K and destination: one keeps its context in the store, the other posts to its webhook", async () => {
    const [store, hooked] = [uniqueSession("k3-store"), uniqueSession("k5-webhook")];
    expect((await putSettings(store, { threshold: 3 })).status).toBe(200);
    expect((await putSettings(hooked, { threshold: 5, destinations: [webhookB()] })).status).toBe(200);
    const [s1, s2] = [uniqueSession(), uniqueSession()];
    for (let i = 0; i < 6; i++) {
      expect((await postActions(batch(store, s1, i, 1))).status).toBe(202);
      expect((await postActions(batch(hooked, s2, i, 1))).status).toBe(202);
    }
    await settle(store, s1);
    await settle(hooked, s2);
    const [a, b] = [(await getState(store, s1)).body, (await getState(hooked, s2)).body];
    // Both windows are covered (one call each, or one catch-up call if they waited together).
    expect(a).toMatchObject({ threshold: 3, windows: { unsummarised: 0, covered_through: 2 } });
    expect(b).toMatchObject({ threshold: 5, counters: { summaries: 1 }, open_window: { actions: 1 } });
    const receiver = installed.world.receiver;
    expect(receiver.live({ actor: `${store}:${s1}` })).toEqual([]);
    expect(receiver.live({ actor: `${hooked}:${s2}` }).map((n) => n.kind).sort()).toEqual(["raw", "summary"]);
  });

  it("a destination change applies to new work; a destination removed keeps what it was sent, and is sent nothing more", async () => {
    const p = uniqueSession("moving");
    expect((await putSettings(p, { threshold: 4, destinations: [webhookB()] })).status).toBe(200);
    const s = uniqueSession();
    for (let i = 0; i < 2; i++) {
      expect((await postActions(batch(p, s, i, 1))).status).toBe(202);
      await settle(p, s);
    }
    const actor = `${p}:${s}`;
    expect(installed.world.receiver.live({ actor }).map((n) => n.kind)).toEqual(["raw", "raw"]);

    expect((await putSettings(p, { threshold: 4, destinations: [{ type: "store" }] })).status).toBe(200);
    for (let i = 2; i < 4; i++) expect((await postActions(batch(p, s, i, 1))).status).toBe(202);
    await settle(p, s);
    // The summary is in the store (its rows are the context, it writes no notes). The webhook's lane
    // is gone: its two raw notes stay where they were posted, and nothing more goes there.
    expect(installed.world.receiver.live({ actor }).map((n) => n.kind)).toEqual(["raw", "raw"]);
    expect(installed.world.events.filter((e) => e.kind === "redact")).toHaveLength(0);
    const { body } = await getState(p, s);
    expect(body).toMatchObject({ destination: "store", lanes: [], counters: { summaries: 1, summary_notes_posted: 0, redactions: 0 }, windows: { covered_through: 1 } });
    expect(body.notes).toEqual([]);
  });
});
