/**
 * @module
 * The text a model reads for the agent tools: a user's activity, a user's sessions, a session's
 * context. Plain lines with ids and UTC times, newest first, so a model can quote a session id
 * back or tell how recent something is. Pure.
 */
import type { IndexedSession } from "../product/sessionIndex";
import type { UserActivity } from "./userActivity";

const when = (iso: string | null): string => (iso === null ? "time unknown" : `${iso.slice(0, 19).replace("T", " ")} UTC`);

export function userActivityText(a: UserActivity): string {
  const lines = [a.message];
  if (!a.found) return a.message;
  lines.push("", "Sessions (newest activity first):");
  for (const s of a.sessions) {
    const link = s.link === null ? "" : `, linked to conversation ${s.link}`;
    lines.push(`- session ${s.session_id}: last activity ${when(s.last_activity_at)}, started ${when(s.created_at)}${link}`);
    if (s.latest_summary) lines.push(`  Summary (posted ${when(s.latest_summary.posted_at)}): ${s.latest_summary.text}`);
  }
  lines.push("", a.recent_actions.length ? "Recent actions (newest first):" : "No recent actions beyond the summaries.");
  a.recent_actions.forEach((x, i) => {
    const what = x.description || x.title || "(no description)";
    lines.push(`${i + 1}. ${when(x.at)} · session ${x.session_id} · ${x.type || "action"}: ${what}${x.canonical_url ? ` — ${x.canonical_url}` : ""}`);
  });
  if (a.truncated) lines.push("", "(Older activity was left out to keep this short.)");
  return lines.join("\n");
}

export interface UserSessions {
  product_id: string;
  user_id: string;
  found: boolean;
  message: string;
  sessions: IndexedSession[];
  /** The user has more sessions than listed. */
  more: boolean;
}

export function userSessionsText(u: UserSessions): string {
  const lines = [u.message];
  for (const s of u.sessions) {
    const link = s.link === null ? "" : `, linked to conversation ${s.link}`;
    lines.push(`- session ${s.session_id} (${s.status}${link}): last activity ${when(s.last_activity_at)}, started ${when(s.created_at)}, ${s.counts.actions} actions, ${s.counts.summaries} summaries`);
  }
  if (u.more) lines.push("(More sessions exist: raise limit to see them.)");
  return lines.join("\n");
}

export interface SessionContextRead {
  product_id: string;
  session_id: string;
  found: boolean;
  /** What `GET …/context` returns, within `MAX_CONTEXT_CHARS` (its head and its newest tail kept). */
  context: string;
  clipped: boolean;
}

export const MAX_CONTEXT_CHARS = 16_000;
const CONTEXT_HEAD_CHARS = 4_000;

/** The summary leads the context and the newest actions end it: a long one loses its middle. */
export function boundedContext(context: string): { context: string; clipped: boolean } {
  if (context.length <= MAX_CONTEXT_CHARS) return { context, clipped: false };
  const marker = (n: number) => `\n… ${n} characters left out (GET …/context has them) …\n`;
  const tail = MAX_CONTEXT_CHARS - CONTEXT_HEAD_CHARS - marker(context.length).length;
  const left = context.length - CONTEXT_HEAD_CHARS - tail;
  return { context: `${context.slice(0, CONTEXT_HEAD_CHARS)}${marker(left)}${context.slice(context.length - tail)}`, clipped: true };
}

export function sessionContextText(r: SessionContextRead): string {
  if (!r.found) return `No session ${JSON.stringify(r.session_id)} in product ${JSON.stringify(r.product_id)}: unknown, erased or expired.`;
  return r.context || `Session ${r.session_id} has no activity yet.`;
}
