/**
 * A server-sent events client for workerd tests, reading the stream as the SDK's client does:
 * frames split on a blank line, `event:`, `id:` and `data:` fields, heartbeats included.
 */
import { auth, request } from "./api";

export interface Frame {
  event: string;
  id: string | null;
  data: string;
  /** `data` as JSON; undefined when it is not JSON (a heartbeat's empty data). */
  json?: Record<string, unknown>;
}

function parseFrame(text: string): Frame {
  const frame: Frame = { event: "message", id: null, data: "" };
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    if (field === "event") frame.event = value;
    else if (field === "id") frame.id = value;
    else if (field === "data") frame.data = frame.data === "" ? value : `${frame.data}\n${value}`;
  }
  if (frame.data !== "") {
    try {
      frame.json = JSON.parse(frame.data) as Record<string, unknown>;
    } catch {
      // Not JSON: the test sees the raw data.
    }
  }
  return frame;
}

/** Reads the whole time, as a client that keeps up does; `until` waits for what it has read. */
export class SseClient {
  readonly frames: Frame[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private ended = false;
  private readonly reading: Promise<void>;

  constructor(readonly response: Response) {
    this.reader = response.body!.getReader();
    this.reading = this.pump();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    try {
      for (;;) {
        const chunk = await this.reader.read();
        if (chunk.done) break;
        rest += decoder.decode(chunk.value, { stream: true });
        let end: number;
        while ((end = rest.indexOf("\n\n")) >= 0) {
          this.frames.push(parseFrame(rest.slice(0, end)));
          rest = rest.slice(end + 2);
        }
      }
    } catch {
      // Cancelled by close().
    }
    this.ended = true;
  }

  /** Waits until `done` holds for the frames read so far, or throws after `timeoutMs`. */
  async until(done: (frames: Frame[]) => boolean, timeoutMs = 5_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.frames)) {
      if (this.ended) throw new Error("stream ended");
      if (Date.now() > deadline) {
        const seen = this.frames.filter((f) => f.event !== "heartbeat").map((f) => `${f.event} ${f.id ?? ""} ${f.data.slice(0, 90)}`);
        throw new Error(`stream: condition not met after ${timeoutMs} ms; frames other than heartbeats: ${JSON.stringify(seen)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.frames;
  }

  /** The payload frames (actions and summaries) read so far. */
  payloads(): Frame[] {
    return this.frames.filter((f) => f.event === "message");
  }

  async close(): Promise<void> {
    await this.reader.cancel();
    await this.reading;
  }
}

/** Opens `GET /stream/:product_id` as `AsyncConnectorClient` would (Accept, Bearer), with `Last-Event-ID` when given. */
export async function openStream(productId: string, options: { lastEventId?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "text/event-stream", authorization: auth.authorization, ...options.headers };
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  return request(`/stream/${encodeURIComponent(productId)}`, { headers });
}
