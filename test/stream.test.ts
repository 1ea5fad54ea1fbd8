/**
 * `GET /stream/:product_id` read as the SDK's client reads it (DESTINATION=stream, K = 4, a 100 ms
 * heartbeat, a replay log of 8 events, a subscriber buffer of 4: vitest.config.ts `streamBindings`).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { batch, postActions, request } from "./helpers/api";
import { createKey, putSettings, sleep } from "./helpers/products";
import { openStream, SseClient, type Frame } from "./helpers/sse";

const newProduct = () => `p-${crypto.randomUUID().slice(0, 8)}`;
const ofSession = (frames: Frame[], session: string) => frames.filter((f) => f.json?.session_id === session);
const summaries = (frames: Frame[]) => frames.filter((f) => f.json?.type === "summary");
const hub = (product: string) => env.STREAM.getByName(product);

describe("GET /stream/:product_id", () => {
  it("streams each batch as an actions payload and each summary after the actions it covers, with ids and heartbeats", async () => {
    const product = newProduct();
    const res = await openStream(product);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const client = new SseClient(res);
    expect((await postActions(batch(product, "s1", 0, 2, { user_id: "u-1", email: "u1@example.com" }))).status).toBe(202);
    await client.until((f) => ofSession(f, "s1").length === 1);
    expect((await postActions(batch(product, "s1", 2, 2))).status).toBe(202);
    const frames = await client.until((f) => summaries(f).length === 1 && f.some((x) => x.event === "heartbeat"));
    const payloads = client.payloads();
    expect(payloads.map((f) => f.json?.type)).toEqual(["actions", "actions", "summary"]);
    expect(payloads[0]!.json).toMatchObject({ product_id: product, session_id: "s1", user_id: "u-1", email: "u1@example.com", count: 2, conversation_id: null });
    expect((payloads[0]!.json!.actions as { description: string }[]).map((a) => a.description)).toEqual(["User did thing 0", "User did thing 1"]);
    expect(payloads[2]!.json).toMatchObject({ type: "summary", product_id: product, session_id: "s1", replaces: 4 });
    expect(Object.keys(payloads[2]!.json!).sort()).toEqual(["forwarded_at", "product_id", "replaces", "session_id", "summary", "type"]);
    expect(typeof payloads[2]!.json!.summary).toBe("string");
    expect(payloads[2]!.json!.forwarded_at).toBeGreaterThan(1_700_000_000);
    expect(payloads.map((f) => Number(f.id))).toEqual([1, 2, 3]);
    expect(frames.find((f) => f.event === "heartbeat")).toMatchObject({ data: "", id: null });
    await client.close();
  });

  it("keeps each session's order when sessions interleave: its actions in arrival order, then the summary covering them", async () => {
    const product = newProduct();
    const client = new SseClient(await openStream(product));
    const sessions = ["a", "b", "c"];
    for (let round = 0; round < 4; round++) {
      await Promise.all(sessions.map((s) => postActions(batch(product, s, round * 2, 2)).then((r) => expect(r.status).toBe(202))));
    }
    // 4 batches of 2 per session: windows close at actions 4 and 8; a summary covers one window, or
    // two when the summariser was behind (its `replaces` says which).
    const covered = (frames: Frame[], session: string) =>
      ofSession(summaries(frames), session).reduce((sum, f) => sum + (f.json!.replaces as number), 0);
    await client.until((f) => sessions.every((s) => covered(f, s) === 8), 10_000);
    for (const s of sessions) {
      const mine = ofSession(client.payloads(), s);
      const indices = mine.filter((f) => f.json!.type === "actions").flatMap((f) => (f.json!.actions as { index: number }[]).map((a) => a.index));
      expect(indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      // Each summary comes after the actions it covers.
      let streamed = 0;
      let summarised = 0;
      for (const f of mine) {
        if (f.json!.type === "actions") streamed += f.json!.count as number;
        else expect(streamed).toBeGreaterThanOrEqual((summarised += f.json!.replaces as number));
      }
    }
    const ids = client.payloads().map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    await client.close();
  });

  it("replays what a reconnect with Last-Event-ID missed, each event once, then goes on live", async () => {
    const product = newProduct();
    const first = new SseClient(await openStream(product));
    await postActions(batch(product, "s1", 0, 1));
    const [seen] = await first.until((f) => f.some((x) => x.json?.type === "actions"));
    await first.close();
    expect(seen!.id).toBe("1");
    // While disconnected: two more batches.
    await postActions(batch(product, "s1", 1, 1));
    await postActions(batch(product, "s1", 2, 1));
    for (let i = 0; i < 100 && (await hub(product).stats()).last_id < 3; i++) await sleep(10);
    const again = new SseClient(await openStream(product, { lastEventId: "1" }));
    await again.until((f) => f.filter((x) => x.json?.type === "actions").length === 2);
    await postActions(batch(product, "s1", 3, 1));
    await again.until((f) => summaries(f).length === 1);
    const payloads = again.payloads();
    expect(payloads.map((f) => f.id)).toEqual(["2", "3", "4", "5"]);
    expect(payloads.map((f) => (f.json!.type === "summary" ? "summary" : (f.json!.actions as { index: number }[])[0]!.index))).toEqual([1, 2, 3, "summary"]);
    expect(again.frames.some((f) => f.event === "missed")).toBe(false);
    await again.close();
  });

  it("tells a reconnect whose Last-Event-ID is older than the log that events were missed, then replays what the log keeps", async () => {
    const product = newProduct();
    for (let i = 1; i <= 12; i++) await hub(product).publish([{ key: `k${i}`, data: JSON.stringify({ type: "actions", product_id: product, n: i }) }]);
    // The same key again is kept once (a lane's retry after a lost answer).
    await hub(product).publish([{ key: "k12", data: JSON.stringify({ type: "actions", product_id: product, n: 12 }) }]);
    expect(await hub(product).stats()).toMatchObject({ events: 8, oldest_id: 5, last_id: 12, subscribers: 0 });
    const client = new SseClient(await openStream(product, { lastEventId: "2" }));
    const frames = await client.until((f) => f.filter((x) => x.event === "message").length === 8);
    expect(frames[0]).toMatchObject({ event: "missed", json: { type: "missed", last_event_id: 2, resumes_at: 5, count: 2 } });
    expect(client.payloads().map((f) => f.json!.n)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    await client.close();
    // Up to date: nothing to replay, nothing missed.
    const current = new SseClient(await openStream(product, { lastEventId: "12" }));
    await current.until((f) => f.some((x) => x.event === "heartbeat"));
    expect(current.frames.filter((f) => f.event !== "heartbeat")).toEqual([]);
    await current.close();
  });

  it("bounds a slow subscriber: it drops and counts past its buffer, says so in a frame and the stats, and holds back no one", async () => {
    const product = newProduct();
    const slow = await openStream(product);
    const fast = new SseClient(await openStream(product));
    await fast.until((f) => f.some((x) => x.event === "heartbeat"));
    const padding = "x".repeat(4_000);
    const total = 200;
    const started = Date.now();
    for (let i = 1; i <= total; i++) await hub(product).publish([{ key: `k${i}`, data: JSON.stringify({ type: "actions", product_id: product, n: i, padding }) }]);
    const publishMs = Date.now() - started;
    await fast.until((f) => f.filter((x) => x.event === "message").length === total, 10_000);
    expect(fast.payloads().map((f) => f.json!.n)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(fast.frames.some((f) => f.event === "dropped")).toBe(false);
    // The slow one reports its drops at its next heartbeat.
    let stats = await hub(product).stats();
    for (let i = 0; i < 50 && stats.dropped === 0; i++) stats = (await sleep(20), await hub(product).stats());
    expect(stats.subscribers).toBe(2);
    expect(stats.dropped).toBeGreaterThan(0);
    const slowClient = new SseClient(slow);
    await slowClient.until((f) => f.some((x) => x.event === "dropped") && f.some((x) => x.event === "heartbeat"));
    const notice = slowClient.frames.find((f) => f.event === "dropped")!;
    expect(notice.json).toMatchObject({ type: "dropped" });
    expect(notice.json!.dropped).toBe(stats.dropped);
    const got = slowClient.payloads().length;
    expect(got + stats.dropped).toBe(total);
    // Read, plus a buffer of 4, plus what the runtime's own pipe took before the client stopped reading.
    expect(got).toBeLessThan(total);
    expect(publishMs).toBeLessThan(10_000);
    const res = await request(`/stream/${product}/stats`, { headers: { authorization: "Bearer test-api-token" } });
    expect(await res.json()).toMatchObject({ subscribers: 2, dropped: stats.dropped, events: 8, last_id: total });
    await slowClient.close();
    await fast.close();
  });

  it("refuses with JSON before the stream starts, with the statuses the SDK treats as fatal (401, 403, 404)", async () => {
    const product = newProduct();
    const refusal = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    };
    await refusal(await request(`/stream/${product}`, { headers: { accept: "text/event-stream" } }), 401, "unauthorized");
    await refusal(await openStream(product, { headers: { authorization: "Bearer wrong" } }), 401, "unauthorized");
    const ingestOnly = await createKey("ingest only", [product], ["ingest"]);
    await refusal(await openStream(product, { headers: { authorization: `Bearer ${ingestOnly.key}` } }), 403, "out_of_scope");
    const elsewhere = await createKey("other product", ["other"], ["read"]);
    await refusal(await openStream(product, { headers: { authorization: `Bearer ${elsewhere.key}` } }), 403, "out_of_scope");
    // A product that does not stream: its hub would never get an event.
    const quiet = newProduct();
    expect((await putSettings(quiet, { destinations: [{ type: "store" }] })).status).toBe(200);
    await refusal(await openStream(quiet), 404, "not_streaming");
    await refusal(await request(`/stream/${quiet}/stats`, { headers: { authorization: "Bearer test-api-token" } }), 404, "not_streaming");
    // A read key for the product streams.
    const reader = await createKey("reader", [product], ["read"]);
    const ok = await openStream(product, { headers: { authorization: `Bearer ${reader.key}` } });
    expect(ok.status).toBe(200);
    await ok.body!.cancel();
  });
});
