/**
 * @module
 * The reads behind the agent surfaces (the MCP tools, `GET …/users/:user_id/activity`): the
 * product's index finds a user's sessions, each session answers for itself, so what a session
 * accepted is visible as soon as its entry is in the index. Checking who may read is the
 * caller's: these trust the product id they are given.
 */
import { sessionStub } from "../ingest";
import { productStub } from "../product/client";
import { listedSession } from "../product/sessionIndex";
import { boundedContext, type SessionContextRead, type UserSessions } from "./activityText";
import type { SessionActivity } from "./sessionActivity";
import { shapeUserActivity, USER_ACTIVITY, type UserActivity } from "./userActivity";

/** The user's newest sessions (at most `USER_ACTIVITY.maxSessions`), each read at once, merged. */
export async function readUserActivity(env: Env, productId: string, userId: string, limit: number = USER_ACTIVITY.defaultActions): Promise<UserActivity> {
  const { entries, more } = await productStub(env, productId).listSessions({ userId, limit: USER_ACTIVITY.maxSessions });
  const reads: (SessionActivity | null)[] = await Promise.all(
    entries.map((e) => sessionStub(env, productId, e.session_id).activity({ maxActions: limit, userId })),
  );
  // A session erased since the index was read, or whose user changed, answers null.
  return shapeUserActivity(productId, userId, reads.filter((r) => r !== null), limit, more);
}

/** The user's sessions from the index, newest activity first. */
export async function readUserSessions(env: Env, productId: string, userId: string, limit: number): Promise<UserSessions> {
  const { entries, idleMs, now, more } = await productStub(env, productId).listSessions({ userId, limit });
  const sessions = entries.map((e) => listedSession(e, now, idleMs));
  const message = sessions.length
    ? `${sessions.length} session${sessions.length === 1 ? "" : "s"} of user ${JSON.stringify(userId)}, newest activity first.`
    : `No sessions found for user ${JSON.stringify(userId)} in product ${JSON.stringify(productId)}: the product or user is unknown, or no session of theirs carried this user_id.`;
  return { product_id: productId, user_id: userId, found: sessions.length > 0, message, sessions, more };
}

/** What `GET …/context` returns for a session, bounded. */
export async function readSessionContext(env: Env, productId: string, sessionId: string, query?: string): Promise<SessionContextRead> {
  const read = await sessionStub(env, productId, sessionId).context(query);
  if (!read) return { product_id: productId, session_id: sessionId, found: false, context: "", clipped: false };
  return { product_id: productId, session_id: sessionId, found: true, ...boundedContext(read.context) };
}
