/**
 * @module
 * One SSE client, served by its Worker request: the frames its hub sends on a WebSocket become the
 * response body. The client reads at its own pace; what it has not read waits in a bounded buffer
 * (`STREAM_SUBSCRIBER_BUFFER`), and past that frames are dropped, counted, announced in a
 * `dropped` frame before the next one it gets, and reported to the hub (its stats) at each
 * heartbeat. So a slow client holds back nobody: not its hub, not ingest, not other clients.
 */
import { droppedFrame, HEARTBEAT_FRAME } from "./frames";

/**
 * The frames waiting for one client. Live frames are held up to `limit`; the replay a reconnect
 * asked for is held whole (the log bounds it: `STREAM_REPLAY_EVENTS`), so a burst of replay never
 * drops what the client came back for. Pure.
 */
export class FrameBuffer {
  private readonly frames: string[] = [];
  /** The frame count of each live entry of `frames` (the last ones), oldest first. */
  private readonly counts: number[] = [];
  private live = 0;
  private droppedUnannounced = 0;
  /** Frames dropped on this stream so far. */
  dropped = 0;

  constructor(private readonly limit: number) {}

  get empty(): boolean {
    return this.frames.length === 0;
  }

  /**
   * Keeps `count` live frames (`frames`, a heartbeat or the events a message carries), or drops
   * and counts them when the buffer is full; the next kept is preceded by a `dropped` frame.
   */
  offer(frames: string, count = 1): void {
    // A message is kept whole or dropped whole; an empty buffer takes one however large.
    if (this.live > 0 && this.live + count > this.limit) {
      this.dropped += count;
      this.droppedUnannounced += count;
      return;
    }
    this.live += count;
    this.frames.push(this.droppedUnannounced === 0 ? frames : droppedFrame(this.droppedUnannounced, this.dropped) + frames);
    this.counts.push(count);
    this.droppedUnannounced = 0;
  }

  /** Keeps a replayed frame, whatever the bound (the hub sends a replay before any live frame). */
  offerReplay(frame: string): void {
    this.frames.push(frame);
  }

  /** The next text to write, or null when none waits. */
  take(): string | null {
    const frame = this.frames.shift();
    if (frame === undefined) return null;
    // Replayed entries are all ahead of the live ones, whose counts are kept beside them.
    const count = this.counts.shift();
    if (count !== undefined) this.live -= count;
    return frame;
  }
}

/** The hub's messages: a replayed frame (`R` + frame), or live frames (`L<count>\n` + frames). */
export const REPLAYED = "R";
const LIVE = "L";

export const liveMessage = (count: number, frames: string): string => `${LIVE}${count}\n${frames}`;

/** A live message's frames and their count; null for anything else. */
export function readLiveMessage(message: string): { count: number; frames: string } | null {
  const nl = message.indexOf("\n");
  const count = Number(message.slice(1, nl));
  if (!message.startsWith(LIVE) || nl < 0 || !Number.isInteger(count) || count < 1) return null;
  return { count, frames: message.slice(nl + 1) };
}

export interface SubscriberOptions {
  heartbeatMs: number;
  buffer: number;
}

/** The SSE body fed by the hub's WebSocket (accepted here); it ends when either side closes. */
export function sseBody(hub: WebSocket, options: SubscriberOptions): ReadableStream<Uint8Array> {
  const buffer = new FrameBuffer(options.buffer);
  const encoder = new TextEncoder();
  let closed = false;
  let reported = 0;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const heartbeat = setInterval(() => {
    // A quiet stream says it is alive; one with frames waiting needs no more.
    if (buffer.empty) buffer.offer(HEARTBEAT_FRAME);
    if (buffer.dropped !== reported) {
      reported = buffer.dropped;
      trySend(hub, JSON.stringify({ dropped: reported }));
    }
    notify();
  }, options.heartbeatMs);
  const end = () => {
    closed = true;
    clearInterval(heartbeat);
    notify();
  };
  hub.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    if (event.data.startsWith(REPLAYED)) buffer.offerReplay(event.data.slice(1));
    const live = readLiveMessage(event.data);
    if (live) buffer.offer(live.frames, live.count);
    notify();
  });
  hub.addEventListener("close", end);
  hub.addEventListener("error", end);
  hub.accept();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let next = buffer.take();
          if (next !== null) {
            // Everything waiting goes out as one chunk: one write however far the client fell behind.
            for (let more = buffer.take(); more !== null; more = buffer.take()) next += more;
            return controller.enqueue(encoder.encode(next));
          }
          if (closed) return controller.close();
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
      cancel() {
        end();
        try {
          hub.close(1000, "subscriber left");
        } catch {
          // The hub closed it first.
        }
      },
    },
    // Pulled only when the client reads: what it has not read stays in the bounded buffer.
    { highWaterMark: 0 },
  );
}

function trySend(ws: WebSocket, message: string): void {
  try {
    ws.send(message);
  } catch {
    // Closing: the stats lose this stream's count with it.
  }
}
