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
  private live = 0;
  private droppedUnannounced = 0;
  /** Frames dropped on this stream so far. */
  dropped = 0;

  constructor(private readonly limit: number) {}

  get empty(): boolean {
    return this.frames.length === 0;
  }

  /** Keeps a live frame, or drops and counts it when the buffer is full; the next one kept is preceded by a `dropped` frame. */
  offer(frame: string): void {
    if (this.live >= this.limit) {
      this.dropped += 1;
      this.droppedUnannounced += 1;
      return;
    }
    this.live += 1;
    this.frames.push(this.droppedUnannounced === 0 ? frame : droppedFrame(this.droppedUnannounced, this.dropped) + frame);
    this.droppedUnannounced = 0;
  }

  /** Keeps a replayed frame, whatever the bound. */
  offerReplay(frame: string): void {
    this.frames.push(frame);
  }

  /** The next text to write, or null when none waits. */
  take(): string | null {
    const frame = this.frames.shift();
    if (frame === undefined) return null;
    // Replayed frames are all ahead of the live ones, so the live count only falls once they are out.
    if (this.frames.length < this.live) this.live = this.frames.length;
    return frame;
  }
}

/** The hub's message kinds (first character): a replayed frame, or a live one. */
export const REPLAYED = "R";
export const LIVE = "L";

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
    else buffer.offer(event.data.slice(1));
    notify();
  });
  hub.addEventListener("close", end);
  hub.addEventListener("error", end);
  hub.accept();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const next = buffer.take();
          if (next !== null) return controller.enqueue(encoder.encode(next));
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
