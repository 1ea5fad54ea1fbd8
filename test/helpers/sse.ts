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

export class SseClient {
  readonly frames: Frame[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private rest = "";

  constructor(readonly response: Response) {
    this.reader = response.body!.getReader();
  }

  /** Reads until `done` holds for the frames read so far, or throws after `timeoutMs`. */
  async until(done: (frames: Frame[]) => boolean, timeoutMs = 5_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.frames)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream: condition not met after ${timeoutMs} ms; frames: ${JSON.stringify(this.frames.map((f) => f.event + " " + f.data.slice(0, 80)))}`);
      const chunk = await Promise.race([this.reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), left))]);
      if (chunk === null) continue;
      if (chunk.done) throw new Error("stream ended");
      this.rest += this.decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = this.rest.indexOf("\n\n")) >= 0) {
        this.frames.push(parseFrame(this.rest.slice(0, end)));
        this.rest = this.rest.slice(end + 2);
      }
    }
    return this.frames;
  }

  /** The payload frames (actions and summaries) read so far. */
  payloads(): Frame[] {
    return this.frames.filter((f) => f.event === "message");
  }

  async close(): Promise<void> {
    await this.reader.cancel();
  }
}

/** Opens `GET /stream/:product_id` as `AsyncConnectorClient` would (Accept, Bearer), with `Last-Event-ID` when given. */
export async function openStream(productId: string, options: { lastEventId?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "text/event-stream", authorization: auth.authorization, ...options.headers };
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  return request(`/stream/${encodeURIComponent(productId)}`, { headers });
}
