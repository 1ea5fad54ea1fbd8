/**
 * @module
 * Slack ids and answers: a session's link (`channel` or `channel:thread_ts`), a part id (`channel:ts`, or
 * `channel:ts1,ts2` for a note split into several messages), and which messages of a thread carry a
 * note's marker. Pure.
 */
import { markerIn } from "./slackFormat";

export interface SlackLink {
  channel: string;
  /** The thread the notes are replies in, if the link names one. */
  threadTs: string | null;
}

/** `C123` or `C123:1700000000.000100`. */
export function parseLink(link: string): SlackLink {
  const at = link.indexOf(":");
  return at === -1 ? { channel: link, threadTs: null } : { channel: link.slice(0, at), threadTs: link.slice(at + 1) || null };
}

export function formatPartId(channel: string, ts: readonly string[]): string {
  return `${channel}:${ts.join(",")}`;
}

/** The channel and every message of a part id; null when it is not one of ours. */
export function parsePartId(partId: string): { channel: string; ts: string[] } | null {
  const { channel, threadTs } = parseLink(partId);
  const ts = (threadTs ?? "").split(",").filter((t) => t !== "");
  return channel && ts.length > 0 ? { channel, ts } : null;
}

export interface MessageView {
  ts: string;
  text: string;
  /** Set on messages a bot (an app) posted; people's messages have none. */
  botId: string | null;
}

/** `messages[]` of `conversations.replies` / `conversations.history`, tolerant of odd fields. */
export function readMessages(answer: unknown): MessageView[] {
  const list = field(answer, "messages");
  if (!Array.isArray(list)) return [];
  return list.flatMap((m): MessageView[] => {
    const ts = field(m, "ts");
    const text = field(m, "text");
    const botId = field(m, "bot_id");
    if (typeof ts !== "string") return [];
    return [{ ts, text: typeof text === "string" ? text : "", botId: typeof botId === "string" ? botId : null }];
  });
}

/**
 * What a thread holds of a note: `complete` with its messages in part order, `partial` (some parts of a
 * split note: they are removed and the note posted again whole), or `absent`. Only bots' messages count:
 * a person quoting a marker is not our note.
 */
export type Found = { kind: "complete"; ts: string[] } | { kind: "partial"; ts: string[] } | { kind: "absent" };

export function findNote(messages: readonly MessageView[], key: string): Found {
  const parts = new Map<number, string>();
  let of = 0;
  for (const m of messages) {
    if (m.botId === null) continue;
    const mark = markerIn(m.text, key);
    if (!mark || parts.has(mark.part)) continue;
    parts.set(mark.part, m.ts);
    of = Math.max(of, mark.of);
  }
  if (parts.size === 0) return { kind: "absent" };
  const ts = [...parts.entries()].sort(([a], [b]) => a - b).map(([, t]) => t);
  return parts.size === of ? { kind: "complete", ts } : { kind: "partial", ts };
}

function field(v: unknown, name: string): unknown {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>)[name] : undefined;
}
