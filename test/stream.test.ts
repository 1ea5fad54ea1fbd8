/**
 * `GET /stream/:product_id` read as the SDK's client reads it (DESTINATION=stream, K = 4, a 100 ms
 * heartbeat, a replay log of 8 events, a subscriber buffer of 4: vitest.config.ts `streamBindings`).
 */
import { describe, expect, it } from "vitest";
import { batch, postActions } from "./helpers/api";
import { openStream, SseClient, type Frame } from "./helpers/sse";

const actionsOf = (frames: Frame[], session: string) => frames.filter((f) => f.json?.type === "actions" && f.json.session_id === session);

describe("GET /stream/:product_id", () => {
  it("streams each batch as an actions payload and each summary after the actions it covers, with ids and heartbeats", async () => {
    const product = `p-${crypto.randomUUID().slice(0, 8)}`;
    const res = await openStream(product);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const client = new SseClient(res);
    expect((await postActions(batch(product, "s1", 0, 2))).status).toBe(202);
    await client.until((f) => actionsOf(f, "s1").length === 1);
    expect((await postActions(batch(product, "s1", 2, 2))).status).toBe(202);
    const frames = await client.until((f) => f.some((x) => x.json?.type === "summary") && f.some((x) => x.event === "heartbeat"));
    const payloads = client.payloads();
    expect(payloads.map((f) => f.json?.type)).toEqual(["actions", "actions", "summary"]);
    expect(payloads[0]!.json).toMatchObject({ product_id: product, session_id: "s1", count: 2, user_id: null });
    expect(payloads[2]!.json).toMatchObject({ type: "summary", product_id: product, session_id: "s1", replaces: 4 });
    expect(typeof payloads[2]!.json!.summary).toBe("string");
    expect(payloads.map((f) => Number(f.id))).toEqual([1, 2, 3]);
    expect(frames.find((f) => f.event === "heartbeat")?.data).toBe("");
    await client.close();
  });
});
