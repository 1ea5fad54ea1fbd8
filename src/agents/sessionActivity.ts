/**
 * @module
 * What one session tells a reader of its user's activity: its times, its latest posted summary and
 * its newest actions not covered by that summary (the same sources as `GET …/context`), newest
 * first and at most `maxActions`, each field clipped. Read by the session actor's `activity` RPC;
 * `userActivity.ts` merges the answers of a user's sessions. Pure.
 */
import type { SlimAction } from "../session/model";
import type { SessionRow, WindowRow } from "../session/store/schema";

/** Longest summary and action field handed on: a model reads many sessions at once. */
export const MAX_SUMMARY_CHARS = 2_000;
export const MAX_FIELD_CHARS = 300;

const ELLIPSIS = "\u2026";
export const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}${ELLIPSIS}`);

export interface ActivityAction {
  /** When the action happened (the source's `timestamp_start`), ISO; null when the source gave none. */
  at: string | null;
  type: string;
  title: string;
  description: string;
  canonical_url: string;
}

export interface SessionActivity {
  session_id: string;
  created_at: string;
  last_activity_at: string;
  link: string | null;
  latest_summary: { text: string; posted_at: string | null } | null;
  /** Newest first. */
  recent_actions: ActivityAction[];
  /** Actions not covered by the summary that were left out to stay within `maxActions`. */
  more_actions: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function activityAction(a: SlimAction): ActivityAction {
  return {
    at: a.timestamp_start > 0 ? iso(a.timestamp_start * 1000) : null,
    type: clip(a.type, MAX_FIELD_CHARS),
    title: clip(a.title, MAX_FIELD_CHARS),
    description: clip(a.description, MAX_FIELD_CHARS),
    canonical_url: clip(a.canonical_url, MAX_FIELD_CHARS),
  };
}

/**
 * What the session tells about `userId`: nothing once its user is someone else (the index may be
 * behind a session whose user changed), and none of the actions stamped with another user.
 * @param uncovered the actions no posted summary covers, in arrival order
 */
export function sessionActivity(
  s: SessionRow,
  latest: WindowRow | null,
  uncovered: readonly SlimAction[],
  { maxActions, userId }: { maxActions: number; userId: string },
): SessionActivity | null {
  if (s.user_id !== userId) return null;
  const theirs = uncovered.filter((a) => a.user_id === null || a.user_id === userId);
  const newest = theirs.slice(Math.max(0, theirs.length - maxActions)).reverse();
  return {
    session_id: s.session_id,
    created_at: iso(s.created_at),
    last_activity_at: iso(s.last_action_at),
    link: s.link,
    latest_summary: latest?.summary ? { text: clip(latest.summary, MAX_SUMMARY_CHARS), posted_at: latest.posted_at === null ? null : iso(latest.posted_at) } : null,
    recent_actions: newest.map(activityAction),
    more_actions: theirs.length - newest.length,
  };
}
