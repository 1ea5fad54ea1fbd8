/** The stream's pure parts: a subscriber's bounded buffer, its frames, and the settings of both ways out. */
import { describe, expect, it } from "vitest";
import { ConfigError, parseDestination, parseStream } from "../../src/config";
import { autoplayPayloads } from "../../src/destinations/autoplayPayloads";
import { eventFrame, missedFrame, parseLastEventId } from "../../src/stream/frames";
import { FrameBuffer } from "../../src/stream/subscriber";

const drain = (b: FrameBuffer) => {
  const out: string[] = [];
  for (let f = b.take(); f !== null; f = b.take()) out.push(f);
  return out;
};

describe("a subscriber's buffer", () => {
  it("keeps at most its bound of live frames, counts the rest, and announces the gap before the next frame kept", () => {
    const b = new FrameBuffer(2);
    for (const f of ["a", "b", "c", "d"]) b.offer(f);
    expect(b.dropped).toBe(2);
    expect(drain(b)).toEqual(["a", "b"]);
    b.offer("e");
    expect(drain(b)).toEqual([`event: dropped\ndata: {"type":"dropped","dropped":2,"total":2}\n\ne`]);
    b.offer("f");
    expect(drain(b)).toEqual(["f"]);
  });

  it("keeps or drops a message of several frames whole, counting each frame", () => {
    const b = new FrameBuffer(3);
    b.offer("a\n\nb\n\n", 2);
    b.offer("c\n\nd\n\n", 2);
    expect(b.dropped).toBe(2);
    b.offer("e\n\n", 1);
    expect(drain(b)).toEqual(["a\n\nb\n\n", `event: dropped\ndata: {"type":"dropped","dropped":2,"total":2}\n\ne\n\n`]);
    // Empty, it takes a message larger than its bound.
    b.offer("f\n\ng\n\nh\n\ni\n\n", 4);
    expect(b.dropped).toBe(2);
  });

  it("keeps a reconnect's replay whole, ahead of the live frames and outside their bound", () => {
    const b = new FrameBuffer(1);
    for (const f of ["r1", "r2", "r3"]) b.offerReplay(f);
    b.offer("live1");
    b.offer("live2");
    expect(b.dropped).toBe(1);
    expect(drain(b)).toEqual(["r1", "r2", "r3", "live1"]);
  });
});

describe("frames", () => {
  it("gives every payload its id and says how many events a stale Last-Event-ID missed", () => {
    expect(eventFrame(7, '{"type":"actions"}')).toBe('id: 7\ndata: {"type":"actions"}\n\n');
    expect(missedFrame(2, 5)).toBe('event: missed\ndata: {"type":"missed","last_event_id":2,"resumes_at":5,"count":2}\n\n');
    expect([parseLastEventId("12"), parseLastEventId(" 3 "), parseLastEventId("-1"), parseLastEventId("x"), parseLastEventId(undefined)]).toEqual([12, 3, null, null, null]);
  });

  it("builds one actions payload per batch of a raw note, and a summary payload with replaces", () => {
    const session = { productId: "p", sessionId: "s", link: null, userId: "u", email: null };
    const base = { key: "e-n1", text: "", summary: null, window: 1, extractive: false, createdAt: 0 };
    const a = { title: "t", description: "d", canonical_url: "/", index: 0, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: "s", user_id: null, email: null, conversation_id: null };
    const raw = autoplayPayloads(session, { ...base, kind: "raw", actions: [a, a, a], batches: [[a], [a, a]] }, 1_700_000_000_500);
    expect(raw.map((p) => (p.type === "actions" ? p.count : -1))).toEqual([1, 2]);
    expect(raw[0]).toMatchObject({ type: "actions", product_id: "p", session_id: "s", user_id: "u", email: null, conversation_id: null, forwarded_at: 1_700_000_000.5 });
    const summary = autoplayPayloads(session, { ...base, kind: "summary", actions: [], summary: "did things", replaces: 3 }, 1_000);
    expect(summary).toEqual([{ type: "summary", product_id: "p", session_id: "s", summary: "did things", replaces: 3, forwarded_at: 1 }]);
  });
});

describe("settings", () => {
  it("reads the stream's bounds, with defaults, and names an unusable one", () => {
    expect(parseStream({})).toEqual({ replayEvents: 1_000, replayMaxAgeMs: 3_600_000, heartbeatMs: 30_000, subscriberBuffer: 256 });
    expect(() => parseStream({ STREAM_HEARTBEAT_MS: "60000" })).toThrow(/STREAM_HEARTBEAT_MS must be an integer from 10 to 30000/);
  });

  it("needs AUTOPLAY_FORWARD_URL (http or https) and AUTOPLAY_SECRET for DESTINATION=autoplay", () => {
    expect(parseDestination({ DESTINATION: "autoplay", AUTOPLAY_FORWARD_URL: "https://app.example.com/hook", AUTOPLAY_SECRET: "s" })).toEqual({
      kind: "autoplay",
      forwardUrl: "https://app.example.com/hook",
      secret: "s",
    });
    const error = (vars: Record<string, string>) => {
      try {
        parseDestination({ DESTINATION: "autoplay", ...vars });
      } catch (err) {
        return err instanceof ConfigError ? err.setting : "other";
      }
      return null;
    };
    expect(error({ AUTOPLAY_SECRET: "s" })).toBe("AUTOPLAY_FORWARD_URL");
    expect(error({ AUTOPLAY_FORWARD_URL: "ftp://x", AUTOPLAY_SECRET: "s" })).toBe("AUTOPLAY_FORWARD_URL");
    expect(error({ AUTOPLAY_FORWARD_URL: "https://x" })).toBe("AUTOPLAY_SECRET");
    expect(parseDestination({ DESTINATION: "stream" })).toEqual({ kind: "stream" });
  });
});
