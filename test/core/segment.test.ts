import { describe, expect, it } from "vitest";
import type { SlimAction } from "../../src/session/model";
import type { SourceParseOptions } from "../../src/sources/common";
import { parseSegmentBody } from "../../src/sources/segment";

const NOW = 1741083400;
const opts: SourceParseOptions = { productId: "acme", now: NOW };
const T0 = 1741083300; // 2025-03-04T10:15:00Z

// What analytics.js sends to the HTTP Tracking API's /v1/batch (trimmed to the fields that matter).
const batch = {
  batch: [
    {
      type: "page",
      messageId: "ajs-next-1741083300000-aaaa",
      anonymousId: "4a5f8f6e-6c1e-4a0b-9d1f-0a1b2c3d4e5f",
      userId: "usr_42",
      name: "Pricing",
      properties: { path: "/pricing", referrer: "https://www.google.com/", search: "?utm_campaign=spring", title: "Pricing – Acme", url: "https://www.acme.io/pricing?utm_campaign=spring" },
      context: { page: { path: "/pricing", title: "Pricing – Acme", url: "https://www.acme.io/pricing?utm_campaign=spring" }, traits: { email: "dana@example.com" } },
      timestamp: "2025-03-04T10:15:00.000Z",
    },
    {
      type: "track",
      messageId: "ajs-next-1741083307500-cccc",
      anonymousId: "4a5f8f6e-6c1e-4a0b-9d1f-0a1b2c3d4e5f",
      userId: "usr_42",
      event: "Plan Selected",
      properties: { plan: "team", billing: "annual" },
      context: { page: { path: "/pricing", url: "https://www.acme.io/pricing?utm_campaign=spring" } },
      timestamp: "2025-03-04T10:15:07.500Z",
    },
    {
      type: "track",
      messageId: "ajs-next-1741083304000-bbbb",
      anonymousId: "4a5f8f6e-6c1e-4a0b-9d1f-0a1b2c3d4e5f",
      userId: "usr_42",
      event: "checkout_started",
      properties: {},
      context: { page: { url: "https://www.acme.io/checkout/0195b4a3-1111-7222-8333-944455556666" } },
      timestamp: "2025-03-04T10:15:04.000Z",
    },
    { type: "identify", messageId: "ajs-next-id-1", userId: "usr_42", traits: { email: "dana@example.com" }, timestamp: "2025-03-04T10:15:01.000Z" },
    {
      type: "track",
      messageId: "ajs-next-1741083307500-cccc", // redelivered
      userId: "usr_42",
      event: "Plan Selected",
      timestamp: "2025-03-04T10:15:07.500Z",
    },
    { type: "screen", messageId: "ios-1", anonymousId: "dev-7", name: "Cart", context: { sessionId: 1741083310000 }, timestamp: "2025-03-04T10:15:10Z" },
    { type: "track", messageId: "srv-1", event: "Invoice Paid", timestamp: "2025-03-04T10:15:20Z" },
    { type: "track", messageId: "srv-2", userId: "usr_42", timestamp: "2025-03-04T10:15:21Z" },
  ],
};

function row(session: string, index: number, type: string, title: string, description: string, raw_url: string, canonical_url: string, start: number, end: number, user_id: string, email: string | null): SlimAction {
  return { title, description, canonical_url, index, type, timestamp_start: start, timestamp_end: end, raw_url, session_id: session, user_id, email, conversation_id: null };
}

describe("parseSegmentBody", () => {
  const r = parseSegmentBody(batch, opts);
  if (!r.ok) throw new Error(r.message);

  it("maps page and track calls of one user into one ordered session, dropping identify, duplicates and bad calls", () => {
    expect(r.dropped).toEqual({ low_signal: 1, duplicate: 1, no_session: 1, invalid: 1 });
    expect(r.batches.map((b) => b.payload.session_id)).toEqual(["usr_42", "1741083310000"]);
    const pricing = "https://www.acme.io/pricing?utm_campaign=spring";
    const checkout = "https://www.acme.io/checkout/0195b4a3-1111-7222-8333-944455556666";
    expect(r.batches[0]!.payload).toEqual({
      product_id: "acme",
      session_id: "usr_42",
      user_id: "usr_42",
      email: "dana@example.com",
      conversation_id: null,
      forwarded_at: NOW,
      actions: [
        row("usr_42", 0, "pageview", "Page Load: Pricing", "User landed on the Pricing page", pricing, "https://www.acme.io/pricing", T0, T0 + 4, "usr_42", "dana@example.com"),
        row("usr_42", 1, "custom", "Checkout started", "User triggered the 'Checkout started' event on the Checkout page", checkout, "https://www.acme.io/checkout/:id", T0 + 4, T0 + 7.5, "usr_42", null),
        row("usr_42", 2, "custom", "Plan Selected", "User triggered the 'Plan Selected' event on the Pricing page", pricing, "https://www.acme.io/pricing", T0 + 7.5, T0 + 7.5, "usr_42", null),
      ],
    });
    expect(r.batches[0]!.eventIds).toEqual(["ajs-next-1741083300000-aaaa", "ajs-next-1741083304000-bbbb", "ajs-next-1741083307500-cccc"]);
  });

  it("uses context.sessionId when present (numbers too) and maps screen calls to pageviews", () => {
    expect(r.batches[1]!.payload.actions).toEqual([
      row("1741083310000", 0, "pageview", "Screen View: Cart", "User opened the Cart screen", "", "", T0 + 10, T0 + 10, "dev-7", null),
    ]);
  });

  it("applies a batch-level context to each call", () => {
    const res = parseSegmentBody(
      { batch: [{ type: "track", event: "Clicked Upgrade", anonymousId: "a-1", timestamp: "2025-03-04T10:15:00Z" }], context: { page: { url: "https://app.acme.io/billing" } } },
      opts,
    );
    expect(res.ok && res.batches[0]!.payload.actions[0]).toMatchObject({
      title: "Clicked Upgrade",
      description: "User triggered the 'Clicked Upgrade' event on the Billing page",
      canonical_url: "https://app.acme.io/billing",
    });
  });

  it("accepts one call on its own and properties.session_id", () => {
    const res = parseSegmentBody({ type: "page", userId: "u", properties: { url: "https://a.io/x", session_id: "s-9" }, timestamp: "2025-03-04T10:15:00Z" }, opts);
    expect(res.ok && res.batches.map((b) => [b.payload.session_id, b.payload.actions[0]!.title, b.eventIds[0]!.startsWith("fp:")])).toEqual([["s-9", "Page Load: X", true]]);
  });

  it.each([[{}], [null], [{ batch: {} }], ["track"]])("rejects %j", (body) => {
    expect(parseSegmentBody(body, opts)).toMatchObject({ ok: false, code: "invalid_payload" });
  });

  it("rejects more calls than the limit", () => {
    expect(parseSegmentBody([{ type: "page" }, { type: "page" }], { ...opts, maxEvents: 1 })).toMatchObject({ ok: false, code: "too_many_events" });
  });
});
