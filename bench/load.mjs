// The load the scenarios share: the two session sets (one session, many), their warm-up, and the
// order phases run in from round to round.
import { drive } from "./client.mjs";
import { log } from "./log.mjs";

/** One session, and `profile.manySessions` sessions. */
export const loadsOf = (profile) => [
  { key: "one", sessionCount: 1 },
  { key: "many", sessionCount: profile.manySessions },
];

/** Round `r` (from 1) runs `list` rotated by r - 1 places, so no phase always runs first. */
export const rotate = (list, r) => list.map((_, i) => list[(i + r - 1) % list.length]);

export const sessionsLabel = (n) => `${n} session${n > 1 ? "s" : ""}`;

/** drive() against `port` over `sessions`, with the profile's phase defaults unless `options` says otherwise. */
export function driveLoad(ctx, port, sessions, options) {
  const { runId, profile } = ctx;
  return drive(port, { runId, sessions, maxRequests: profile.maxRequestsPerPhase, concurrency: profile.concurrency, actionsPerBatch: profile.actionsPerBatch, ...options });
}

const sessionSets = new Map();

/**
 * The warm session set of `sessionCount` sessions on `server` (of `server.product` when set):
 * created and touched once (every actor exists, its isolate and SQLite file are open), then reused
 * by every later phase.
 * `warmup` is null when the set was already warm.
 */
export async function warmSessions(ctx, server, sessionCount) {
  const key = `${server.name}:${sessionCount}`;
  if (sessionSets.has(key)) return { sessions: sessionSets.get(key), warmup: null };
  const sessions = Array.from({ length: sessionCount }, (_, i) => `w-${server.name}-${sessionCount}-${ctx.runId}-${i}`);
  // Many sessions: each touched once (bounded in time); one session: a short burst.
  const warmup =
    sessionCount > 1
      ? await driveLoad(ctx, server.port, sessions, { seconds: 120, maxRequests: sessions.length, auth: server.auth, product: server.product })
      : await driveLoad(ctx, server.port, sessions, { seconds: ctx.profile.warmupSeconds, auth: server.auth, product: server.product });
  if (warmup.failed > 0) throw new Error(`warm-up of ${sessionCount} session(s) on ${server.name}: ${warmup.failed} failed (${warmup.firstError})`);
  sessionSets.set(key, sessions);
  log(`  warmed ${sessionCount} session(s) on ${server.name} in ${warmup.elapsedS} s`);
  return { sessions, warmup };
}
