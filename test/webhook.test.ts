/**
 * The event-source routes through the real Worker: PostHog webhooks (`POST /webhook/:product_id`)
 * and Segment (`POST /v1/segment/:product_id`). Needs the bindings POSTHOG_WEBHOOK_SECRET=
 * "test-posthog-secret" and POSTHOG_WEBHOOK_SECRETS={"acme-own":"test-acme-own-secret","acme-blank":""}.
 * Every test posts to a product of its own, since storage is shared by the tests of one file.
 */
import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../src/sources/signatures";
import nativeBatch from "./fixtures/posthog/native-batch.json";
import cdpDefault from "./fixtures/posthog/cdp-default.json";
import hogFlatClick from "./fixtures/posthog/hog-flat-click.json";
import { auth, getState, request, sessionPath, settle, uniqueSession } from "./helpers/api";

const SECRET = "test-posthog-secret";
const SESSION_A = "0195b4a2-7c1e-7d3a-9f00-3c2b1a0e9d11";
const ANON_B = "0195b4a3-2b7c-7e11-8f00-aa11bb22cc33";
const CDP_SESSION = "0195b4cf-ffee-7000-9000-0123456789ab";

function postWebhook(productId: string, body: unknown, headers: Record<string, string> = { "x-posthog-secret": SECRET }): Promise<Response> {
  return request(`/webhook/${productId}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function contextText(productId: string, sessionId: string): Promise<string> {
  await settle(productId, sessionId);
  const res = await request(sessionPath(productId, sessionId, "/context"), { headers: auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { context: string }).context;
}

describe("POST /webhook/:product_id (PostHog)", () => {
  it("accepts a native batch with the plain secret: one batch per session, drops counted, actions stored in time order", async () => {
    const p = uniqueSession("ph");
    const res = await postWebhook(p, nativeBatch);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: [
        { product_id: p, session_id: SESSION_A, actions: 9, duplicate: false },
        { product_id: p, session_id: ANON_B, actions: 2, duplicate: false },
      ],
      dropped: { low_signal: 3, duplicate: 1, no_session: 1, invalid: 1 },
    });
    const text = await contextText(p, SESSION_A);
    const lines = [
      "User landed on the Dashboard page",
      "User clicked the 'Export CSV' button on the Dashboard page",
      "User clicked the 'Billing' link to /settings/billing on the Dashboard page",
      "User landed on the Billing page",
      "User changed the 'Billing email' field on the Billing page",
      "User submitted the 'Billing details' form on the Billing page",
      "User clicked the 'Save changes' button repeatedly (rage click) on the Billing page",
      "User clicked the 'Read the docs' link to https://docs.acme.io/billing/invoices on the Billing page",
      "User triggered the 'Invoice downloaded' event on the Billing page",
    ];
    const positions = lines.map((l) => text.indexOf(l));
    expect(positions.every((at) => at >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).not.toContain("ref=welcome_email");
  });

  it("treats a redelivered request as a no-op", async () => {
    const p = uniqueSession("ph");
    expect((await postWebhook(p, nativeBatch)).status).toBe(202);
    const again = await postWebhook(p, nativeBatch);
    expect(again.status).toBe(202);
    const body = (await again.json()) as { accepted: { duplicate: boolean }[] };
    expect(body.accepted.map((a) => a.duplicate)).toEqual([true, true]);
    const text = await contextText(p, SESSION_A);
    expect(text.split("'Export CSV' button").length - 1).toBe(1);
  });

  it("accepts X-PostHog-Secret: sha256=<HMAC of the raw body> (Hog flat payload)", async () => {
    const p = uniqueSession("ph");
    const raw = JSON.stringify(hogFlatClick);
    const res = await postWebhook(p, raw, { "x-posthog-secret": `sha256=${await hmacSha256Hex(SECRET, raw)}` });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: [{ product_id: p, session_id: hogFlatClick.session_id, actions: 1, duplicate: false }],
      dropped: {},
    });
    expect(await contextText(p, hogFlatClick.session_id)).toContain("User clicked the 'Upgrade to Pro' button on the Plans page");
  });

  it("answers 401 to a wrong secret, a missing header or an HMAC of another body, and stores nothing", async () => {
    const p = uniqueSession("ph");
    const raw = JSON.stringify(cdpDefault);
    const attempts: Record<string, string>[] = [
      { "x-posthog-secret": "wrong" },
      {},
      { "x-posthog-secret": `sha256=${await hmacSha256Hex(SECRET, raw + " ")}` },
      { "x-posthog-secret": `sha256=${await hmacSha256Hex("wrong", raw)}` },
      { authorization: `Bearer ${SECRET}` },
    ];
    for (const headers of attempts) {
      const res = await postWebhook(p, raw, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_signature" } });
    }
    expect((await getState(p, CDP_SESSION)).status).toBe(404);
    // The same body, correctly signed, is new: nothing was recorded by the refused attempts.
    const ok = await postWebhook(p, raw);
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ accepted: [{ session_id: CDP_SESSION, actions: 1, duplicate: false }] });
  });

  it("checks the secret before parsing: a wrong one is 401 even when the body is not JSON", async () => {
    const res = await postWebhook(uniqueSession("ph"), "{not json", { "x-posthog-secret": "wrong" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_signature" } });
  });

  it("uses the product's own secret from POSTHOG_WEBHOOK_SECRETS, and refuses a product whose entry is blank", async () => {
    expect((await postWebhook("acme-own", cdpDefault)).status).toBe(401);
    expect((await postWebhook("acme-own", cdpDefault, { "x-posthog-secret": "test-acme-own-secret" })).status).toBe(202);
    expect((await postWebhook("acme-blank", cdpDefault)).status).toBe(401);
    expect((await postWebhook("acme-blank", cdpDefault, { "x-posthog-secret": "" })).status).toBe(401);
  });

  it("rejects malformed requests with clear errors", async () => {
    const p = uniqueSession("ph");
    const notJson = await postWebhook(p, "{not json");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: "invalid_json" } });

    const wrongShape = await postWebhook(p, { hello: "world" });
    expect(wrongShape.status).toBe(422);
    expect(await wrongShape.json()).toMatchObject({ error: { code: "invalid_payload" } });

    const badProduct = await postWebhook("bad%20product", cdpDefault);
    expect(badProduct.status).toBe(422);
    expect(await badProduct.json()).toMatchObject({ error: { code: "invalid_product_id" } });

    const tooBig = await postWebhook(p, { batch: Array.from({ length: 1001 }, () => ({})) });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ error: { code: "too_many_events" } });
  });

  it("drops and counts an event whose session id is unusable (lone surrogate, C1 control, '..'), and stores the rest", async () => {
    const p = uniqueSession("ph");
    const event = (uuid: string, sessionId: string) => ({
      uuid,
      event: "$pageview",
      timestamp: "2025-03-04T10:00:00Z",
      distinct_id: "d-1",
      properties: { $session_id: sessionId, $current_url: "https://app.acme.io/dashboard" },
    });
    const res = await postWebhook(p, { batch: [event("u-1", "s\ud800"), event("u-2", "good"), event("u-3", "s\u0085"), event("u-4", "..")] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: [{ product_id: p, session_id: "good", actions: 1, duplicate: false }], dropped: { invalid: 3 } });
    expect((await postWebhook(p, { batch: [event("u-5", "good")] })).status).toBe(202);
    expect((await getState(p, "good")).body.counters.actions_accepted).toBe(2);
  });

  it("answers 415 to a body not declared JSON, and stores nothing", async () => {
    const p = uniqueSession("ph");
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const res = await postWebhook(p, cdpDefault, { "x-posthog-secret": SECRET, "content-type": type });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
    }
    expect((await getState(p, CDP_SESSION)).status).toBe(404);
  });

  it("acknowledges a request of only low-signal events without storing anything", async () => {
    const p = uniqueSession("ph");
    const res = await postWebhook(p, {
      batch: [
        { uuid: "u-1", event: "$pageleave", timestamp: "2025-03-04T10:00:00Z", distinct_id: "d-1", properties: { $session_id: "s-1" } },
        { uuid: "u-2", event: "$feature_flag_called", timestamp: "2025-03-04T10:00:01Z", distinct_id: "d-1", properties: { $session_id: "s-1" } },
      ],
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: [], dropped: { low_signal: 2 } });
    expect((await getState(p, "s-1")).status).toBe(404);
  });
});

describe("POST /v1/segment/:product_id", () => {
  const call = (messageId: string, userId: string) => ({
    type: "page",
    messageId,
    userId,
    name: "Pricing",
    properties: { url: "https://www.acme.io/pricing?utm_campaign=spring" },
    timestamp: "2025-03-04T10:15:00.000Z",
  });

  it("needs the API token", async () => {
    const p = uniqueSession("sg");
    const res = await request(`/v1/segment/${p}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(call("m-1", "usr_1")),
    });
    expect(res.status).toBe(401);
    expect((await getState(p, "usr_1")).status).toBe(404);
  });

  it("refuses an unusable product id with the sources' message", async () => {
    const res = await request("/v1/segment/bad%20product", { method: "POST", headers: auth, body: JSON.stringify(call("m-1", "usr_1")) });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: { code: "invalid_product_id", message: "product_id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' or '-', and not '.' or '..'" },
    });
  });

  it("answers 415 to a body not declared JSON, and stores nothing", async () => {
    const p = uniqueSession("sg");
    const res = await request(`/v1/segment/${p}`, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: JSON.stringify(call("m-1", "usr_1")) });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
    expect((await getState(p, "usr_1")).status).toBe(404);
  });

  it("drops and counts a call whose user id is a lone surrogate, and stores the rest", async () => {
    const p = uniqueSession("sg");
    const body = JSON.stringify({ batch: [call("m-1", "usr\ud800"), call("m-2", "usr_2")] });
    const res = await request(`/v1/segment/${p}`, { method: "POST", headers: auth, body });
    expect(await res.json()).toEqual({ accepted: [{ product_id: p, session_id: "usr_2", actions: 1, duplicate: false }], dropped: { invalid: 1 } });
  });

  it("accepts track/page calls with the bearer token, and a redelivery is a no-op", async () => {
    const p = uniqueSession("sg");
    const body = JSON.stringify({ batch: [call("m-1", "usr_1"), { ...call("m-2", "usr_1"), type: "track", event: "Plan Selected", timestamp: "2025-03-04T10:15:05Z" }] });
    const first = await request(`/v1/segment/${p}`, { method: "POST", headers: auth, body });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: [{ product_id: p, session_id: "usr_1", actions: 2, duplicate: false }], dropped: {} });
    const again = await request(`/v1/segment/${p}`, { method: "POST", headers: auth, body });
    expect(await again.json()).toMatchObject({ accepted: [{ duplicate: true }] });
    const text = await contextText(p, "usr_1");
    expect(text).toContain("User landed on the Pricing page");
    expect(text).toContain("User triggered the 'Plan Selected' event on the Pricing page");
  });
});
