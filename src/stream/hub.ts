/**
 * @module
 * One Durable Object per product (named by `product_id`): its stream's replay log and its live
 * subscribers. Each subscriber is a Worker request serving one SSE client, connected here by one
 * WebSocket accepted with the hibernation API, so between events the object holds no request open
 * and can be evicted from memory while its subscribers stay connected. A publish is one RPC from a
 * session's `stream` lane: a row appended per payload, then, for the events of the last 50 ms
 * together, one `send` per subscriber, which never waits for the subscriber to read (its Worker
 * buffers, bounded, and counts what it drops). Frames waiting those 50 ms when the object is
 * evicted are in the log: a reconnect with `Last-Event-ID` replays them.
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfig, need } from "../config";
import type { StreamEvent } from "../destinations/types";
import { meter } from "../meter";
import { eventFrame, missedFrame, parseLastEventId } from "./frames";
import { ReplayLog } from "./replayLog";
import { liveMessage, REPLAYED } from "./subscriber";

/** What a subscriber's Worker reports: the frames it has dropped so far. */
interface Attachment {
  dropped: number;
}

export interface StreamStats {
  subscribers: number;
  /** Frames dropped for subscribers now connected (each reports its total at its heartbeat). */
  dropped: number;
  events: number;
  oldest_id: number | null;
  last_id: number;
}

/**
 * Live frames wait this long, so that one message to each subscriber carries every event of a
 * burst: a send per subscriber per 50 ms at most, not per event (the figures: bench/results/stream.md).
 */
const COALESCE_MS = 50;

export class StreamHub extends DurableObject<Env> {
  private readonly log: ReplayLog;
  /** Frames appended and not yet sent, and how many. */
  private outbox = "";
  private outboxFrames = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.log = new ReplayLog(ctx.storage, need(loadConfig(env).stream));
  }

  /** Appends payloads in order (each key once); they reach every subscriber within {@link COALESCE_MS}. */
  async publish(events: readonly StreamEvent[]): Promise<void> {
    meter.rpc("stream.publish");
    const now = Date.now();
    for (const { key, data } of events) {
      const id = this.log.append(key, data, now);
      if (id === null) continue;
      this.outbox += eventFrame(id, data);
      this.outboxFrames += 1;
    }
    if (this.outboxFrames > 0) this.flushTimer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  /** Sends what waits to every subscriber, as one message each. */
  private flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.outboxFrames === 0) return;
    const message = liveMessage(this.outboxFrames, this.outbox);
    this.outbox = "";
    this.outboxFrames = 0;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(message);
      } catch {
        // A socket closing right now: its client reconnects with Last-Event-ID and replays this.
      }
    }
  }

  /** A subscriber's WebSocket (`?after=<Last-Event-ID>`): the replay it missed first, then live events. */
  override fetch(request: Request): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const after = parseLastEventId(new URL(request.url).searchParams.get("after"));
    // What waits goes to the subscribers it was appended for; the new one gets it by replay only.
    this.flush();
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ dropped: 0 } satisfies Attachment);
    // No await from the replay's read to the last send: a publish cannot slip in between, so the
    // subscriber sees every id once, in order.
    if (after !== null) {
      const { events, missedUntil } = this.log.replay(after, Date.now());
      if (missedUntil !== null) server.send(REPLAYED + missedFrame(after, missedUntil));
      for (const e of events) server.send(REPLAYED + eventFrame(e.id, e.data));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== "string") return;
    let dropped: unknown;
    try {
      dropped = (JSON.parse(message) as { dropped?: unknown }).dropped;
    } catch {
      return; // Only our own Worker speaks here; anything else is ignored.
    }
    if (typeof dropped === "number") ws.serializeAttachment({ dropped } satisfies Attachment);
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 ? 1000 : code, "closed");
    } catch {
      // Already closed by the runtime's own reply.
    }
  }

  async stats(): Promise<StreamStats> {
    meter.rpc("stream.stats");
    const sockets = this.ctx.getWebSockets();
    const dropped = sockets.reduce((sum, ws) => sum + ((ws.deserializeAttachment() as Attachment | null)?.dropped ?? 0), 0);
    const { events, oldestId } = this.log.size();
    return { subscribers: sockets.length, dropped, events, oldest_id: oldestId, last_id: this.log.lastId() };
  }
}
