/**
 * @module
 * "A user's activity", the one implementation behind the MCP tool `get_live_user_activity` and
 * `GET /v1/products/:p/users/:user_id/activity`: the answers of the user's newest sessions merged
 * into their summaries and their recent actions across sessions, newest first, within caps a
 * model can read in one go. Pure; the reads are in `reads.ts`, the text in `activityText.ts`.
 *
 * Caps (`USER_ACTIVITY`): at most 10 sessions (the newest by activity), `limit` actions (default
 * 20, at most 50, Autoplay's own cap), summaries clipped to 2,000 characters and action fields to
 * 300, and the text a model reads to 16,000 characters (the oldest actions go first, then the
 * oldest sessions' summaries); `truncated` says when anything was left out.
 */
import { userActivityText } from "./activityText";
import type { ActivityAction, SessionActivity } from "./sessionActivity";

export const USER_ACTIVITY = { defaultActions: 20, maxActions: 50, maxSessions: 10, maxTextChars: 16_000 } as const;

export type UserAction = ActivityAction & { session_id: string };

export interface UserActivity {
  product_id: string;
  user_id: string;
  /** False: no session of this user is indexed for this product (unknown product or user). */
  found: boolean;
  /** One line saying what this is, or why it is empty. */
  message: string;
  /** Newest activity first; each with its latest posted summary. */
  sessions: Omit<SessionActivity, "recent_actions" | "more_actions">[];
  /** Across the sessions, newest first. */
  recent_actions: UserAction[];
  truncated: boolean;
}

/** Newest first: the action's own time where the source gave one, else its session's latest activity. */
function mergedActions(sessions: readonly SessionActivity[]): UserAction[] {
  const tagged = sessions.flatMap((s) => s.recent_actions.map((a) => ({ ...a, session_id: s.session_id, key: a.at ?? s.last_activity_at })));
  // A stable sort keeps each session's own newest-first order among equal times.
  tagged.sort((x, y) => (x.key < y.key ? 1 : x.key > y.key ? -1 : 0));
  return tagged.map(({ key: _key, ...a }) => a);
}

function messageOf(a: Pick<UserActivity, "product_id" | "user_id" | "sessions" | "recent_actions">): string {
  if (a.sessions.length === 0) {
    return `No activity found for user ${JSON.stringify(a.user_id)} in product ${JSON.stringify(a.product_id)}: the product or user is unknown, or no session of theirs carried this user_id.`;
  }
  const n = a.sessions.length;
  return `${n} session${n === 1 ? "" : "s"} of user ${JSON.stringify(a.user_id)}, newest activity first, with the ${a.recent_actions.length} most recent actions no summary covers yet.`;
}

/**
 * @param sessions what each of the user's sessions answered (any order)
 * @param moreSessions the index holds sessions of the user beyond those read
 */
export function shapeUserActivity(
  productId: string,
  userId: string,
  sessions: readonly SessionActivity[],
  limit: number,
  moreSessions: boolean,
): UserActivity {
  const newest = [...sessions].sort((x, y) => (x.last_activity_at < y.last_activity_at ? 1 : x.last_activity_at > y.last_activity_at ? -1 : 0));
  const all = mergedActions(newest);
  const recent_actions = all.slice(0, limit);
  const activity: UserActivity = {
    product_id: productId,
    user_id: userId,
    found: newest.length > 0,
    message: "",
    sessions: newest.map(({ recent_actions: _a, more_actions: _m, ...s }) => s),
    recent_actions,
    truncated: moreSessions || all.length > limit || newest.some((s) => s.more_actions > 0),
  };
  activity.message = messageOf(activity);
  const fits = (a: UserActivity) => userActivityText(a).length <= USER_ACTIVITY.maxTextChars;
  // Within the character cap: the oldest actions go first, then the oldest sessions' summaries.
  while (!fits(activity) && activity.recent_actions.length > 0) {
    activity.recent_actions.pop();
    activity.truncated = true;
  }
  for (let i = activity.sessions.length - 1; i >= 0 && !fits(activity); i -= 1) {
    activity.sessions[i] = { ...activity.sessions[i]!, latest_summary: null };
    activity.truncated = true;
  }
  activity.message = messageOf(activity);
  return activity;
}
