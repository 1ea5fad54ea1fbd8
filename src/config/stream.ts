/**
 * @module
 * The product stream's bounds (`GET /stream/:product_id`, `src/stream/`): how much its replay log
 * keeps, how often a quiet stream says it is alive, and how far one subscriber may fall behind.
 */
import { int, type Vars } from "./settings";

export interface StreamConfig {
  /** `STREAM_REPLAY_EVENTS`: events the product's replay log keeps for `Last-Event-ID`. */
  replayEvents: number;
  /** `STREAM_REPLAY_MAX_AGE_MS`: and none older than this. */
  replayMaxAgeMs: number;
  /** `STREAM_HEARTBEAT_MS`: `event: heartbeat` after this long (the SDK's connector: 30 s, the most allowed). */
  heartbeatMs: number;
  /** `STREAM_SUBSCRIBER_BUFFER`: frames held for a subscriber that reads slower than events come; past it they are dropped and counted. */
  subscriberBuffer: number;
}

/** Parses the stream's settings. Throws `ConfigError` naming the first unusable one. */
export function parseStream(vars: Vars): StreamConfig {
  return {
    replayEvents: int(vars, "STREAM_REPLAY_EVENTS", 1_000, 1, 100_000),
    replayMaxAgeMs: int(vars, "STREAM_REPLAY_MAX_AGE_MS", 3_600_000, 1_000, 7 * 24 * 3_600_000),
    heartbeatMs: int(vars, "STREAM_HEARTBEAT_MS", 30_000, 10, 30_000),
    subscriberBuffer: int(vars, "STREAM_SUBSCRIBER_BUFFER", 256, 1, 10_000),
  };
}
