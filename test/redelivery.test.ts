/**
 * Redelivered events and Idempotency-Keys (issue 10, items 2 and 3) through the real Worker:
 * source events are applied once per session whatever the re-batching, and a key is remembered
 * with its request's fingerprint, so a replay is a no-op and a reuse with other data is a 409.
 */
import { describe, expect, it } from "vitest";
import { auth, batch, getState, postActions, request, uniqueSession } from "./helpers/api";

const P = "redelivery";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function statusAndBody(res: Response): Promise<{ status: number; body: Json }> {
  return { status: res.status, body: await res.json() };
}

async function acceptedActions(productId: string, sessionId: string): Promise<number> {
  const { status, body } = await getState(productId, sessionId);
  return status === 404 ? 0 : (body.counters.actions_accepted as number);
}

describe("PostHog and Segment redeliveries", () => {
  const hogEvent = (uuid: string, second: number) => ({
    uuid,
    event: "$pageview",
    timestamp: `2025-03-04T10:15:0${second}.000Z`,
    distinct_id: "u-1",
    properties: { $current_url: `https://app.acme.io/page-${uuid}`, $session_id: "sess-1" },
  });
  const postHog = (productId: string, events: unknown[]) =>
    request(`/webhook/${productId}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-posthog-secret": "test-posthog-secret" },
      body: JSON.stringify({ batch: events }),
    });

  it("PostHog: A,B then B,C then B alone store 3 actions, each seen event counted as a duplicate", async () => {
    const p = uniqueSession("ph");
    const [a, b, c] = [hogEvent("uuid-a", 1), hogEvent("uuid-b", 2), hogEvent("uuid-c", 3)];
    expect(await statusAndBody(await postHog(p, [a, b]))).toEqual({
      status: 202,
      body: { accepted: [{ product_id: p, session_id: "sess-1", actions: 2, duplicate: false }], dropped: {} },
    });
    expect(await statusAndBody(await postHog(p, [b, c]))).toEqual({
      status: 202,
      body: { accepted: [{ product_id: p, session_id: "sess-1", actions: 1, duplicate: false }], dropped: { duplicate: 1 } },
    });
    expect(await statusAndBody(await postHog(p, [b]))).toEqual({
      status: 202,
      body: { accepted: [{ product_id: p, session_id: "sess-1", actions: 0, duplicate: true }], dropped: { duplicate: 1 } },
    });
    expect(await acceptedActions(p, "sess-1")).toBe(3);
  });

  it("Segment: the same re-batching by messageId stores each call once", async () => {
    const p = uniqueSession("sg");
    const call = (messageId: string, second: number) => ({
      type: "page",
      messageId,
      userId: "usr_1",
      name: `Page ${messageId}`,
      properties: { url: `https://www.acme.io/${messageId}` },
      timestamp: `2025-03-04T10:15:0${second}.000Z`,
    });
    const post = (calls: unknown[]) => request(`/v1/segment/${p}`, { method: "POST", headers: auth, body: JSON.stringify({ batch: calls }) });
    const [a, b, c] = [call("m-a", 1), call("m-b", 2), call("m-c", 3)];
    expect((await post([a, b])).status).toBe(202);
    expect(((await (await post([b, c])).json()) as Json).dropped).toEqual({ duplicate: 1 });
    expect(((await (await post([b])).json()) as Json).accepted).toEqual([{ product_id: p, session_id: "usr_1", actions: 0, duplicate: true }]);
    expect(await acceptedActions(p, "usr_1")).toBe(3);
  });
});

describe("Idempotency-Key", () => {
  it("is remembered beyond the last 64 keys: key #1 replayed after 65 posts is a no-op", async () => {
    const s = uniqueSession();
    for (let i = 0; i < 66; i++) {
      expect((await postActions(batch(P, s, i, 1), { "idempotency-key": `key-${i}` })).status).toBe(202);
    }
    const replay = await statusAndBody(await postActions(batch(P, s, 0, 1), { "idempotency-key": "key-0" }));
    expect(replay).toEqual({ status: 202, body: { accepted: [{ product_id: P, session_id: s, actions: 0, duplicate: true }] } });
    expect(await acceptedActions(P, s)).toBe(66);
  });

  it("reused with a different body answers 409 idempotency_key_reused and stores nothing", async () => {
    const s = uniqueSession();
    expect((await postActions(batch(P, s, 0, 2), { "idempotency-key": "order-1" })).status).toBe(202);
    const before = (await getState(P, s)).body.counters;
    const reused = await statusAndBody(await postActions(batch(P, s, 5, 3), { "idempotency-key": "order-1" }));
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
    expect((await getState(P, s)).body.counters).toEqual(before);
  });

  it("a replay that only restamps forwarded_at is still the same request", async () => {
    const s = uniqueSession();
    await postActions(batch(P, s, 0, 2, { forwarded_at: 1 }), { "idempotency-key": "restamped" });
    const replay = await statusAndBody(await postActions(batch(P, s, 0, 2, { forwarded_at: 2 }), { "idempotency-key": "restamped" }));
    expect(replay.body.accepted).toEqual([{ product_id: P, session_id: s, actions: 0, duplicate: true }]);
  });

  it("decides a 409 before applying any batch, across sessions", async () => {
    const [fresh, used] = [uniqueSession(), uniqueSession()];
    expect((await postActions(batch(P, used, 0, 1), { "idempotency-key": "shared" })).status).toBe(202);
    const res = await postActions([batch(P, fresh, 0, 2), batch(P, used, 7, 1)], { "idempotency-key": "shared" });
    expect(res.status).toBe(409);
    expect((await getState(P, fresh)).status).toBe(404);
    expect(await acceptedActions(P, used)).toBe(1);
  });

  it("an array's batch keys never collide with a single post's key (z:0 vs batch 0 of z)", async () => {
    const s = uniqueSession();
    expect((await postActions(batch(P, s, 0, 1), { "idempotency-key": "z:0" })).status).toBe(202);
    const array = await statusAndBody(await postActions([batch(P, s, 1, 1), batch(P, s, 2, 1)], { "idempotency-key": "z" }));
    expect(array.body.accepted.map((a: Json) => a.duplicate)).toEqual([false, false]);
    const replay = await statusAndBody(await postActions([batch(P, s, 1, 1), batch(P, s, 2, 1)], { "idempotency-key": "z" }));
    expect(replay.body.accepted.map((a: Json) => a.duplicate)).toEqual([true, true]);
    expect(await acceptedActions(P, s)).toBe(3);
  });
});
