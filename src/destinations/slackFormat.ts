/**
 * @module
 * Slack message texts (mrkdwn) for notes and a session's thread header. Pure: no I/O, no clock.
 *
 * Everything that came from users or the LLM is escaped (`&`, `<`, `>`), so `<!channel>`, `<@U123>` or a
 * link in a description is shown as typed and never pings anyone; `link_names` stays off, so a bare
 * `@channel` is plain text too. Each message ends with the visible marker `ctx:<key>` (as Intercom's
 * notes do): `find` recognises a message whose post timed out by it. A note too long for one message is
 * split at line boundaries into parts marked `ctx:<key> 2/3`, each under the limit given.
 */
import { formatActionLine, formatUtc } from "./intercomFormat";
import type { ContextMessage, OutgoingNote, SessionRef } from "./types";

/** Characters of one message: well under Slack's 40,000 (it truncates there) and `chat.update`'s 12,000 for `markdown_text`. */
export const SLACK_MAX_TEXT_CHARS = 12_000;
/** Below this a `msg_too_long` is not fixed by splitting further. */
export const SLACK_MIN_TEXT_CHARS = 1_000;

/** Escapes the three characters Slack's mrkdwn gives a meaning to (links, mentions, entities). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (ch) => (ch === "&" ? "&amp;" : ch === "<" ? "&lt;" : "&gt;"));
}

const MARKER = "ctx:";
const KEY_CHAR = /[A-Za-z0-9_-]/;

/** Where a message carries the marker of `key`: `{ part, of }` (1/1 for an unsplit message), or null. */
export function markerIn(text: string | null | undefined, key: string): { part: number; of: number } | null {
  if (!text) return null;
  const marker = MARKER + key;
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + 1)) {
    const rest = text.slice(at + marker.length);
    if (KEY_CHAR.test(rest.charAt(0)) || /[A-Za-z0-9]/.test(text.charAt(at - 1))) continue;
    const split = /^ (\d{1,4})\/(\d{1,4})(?!\d)/.exec(rest);
    return split ? { part: Number(split[1]), of: Number(split[2]) } : { part: 1, of: 1 };
  }
  return null;
}

/** The first message of a session's thread: who, when, and its marker (so a lost answer is found, not doubled). */
export function formatThreadHeader(session: SessionRef, key: string, atMs: number): string {
  const who = [`session ${escapeMrkdwn(session.sessionId)}`, session.userId ? `user ${escapeMrkdwn(session.userId)}` : null].filter((p) => p !== null);
  return `*Context Relay* \u2014 ${who.join(" \u00b7 ")} \u2014 ${formatUtc(atMs)}\n${MARKER}${key}`;
}

/** The earliest action time (the SDK's header time), else when the note was prepared. */
function rawNoteTime(note: OutgoingNote): number {
  const starts = note.actions.map((a) => a.timestamp_start).filter((t) => t > 0);
  return starts.length > 0 ? Math.min(...starts) * 1000 : note.createdAt;
}

function headerOf(note: OutgoingNote): string {
  if (note.kind === "summary") return `*Session summary* \u2014 window ${note.window} \u2014 ${formatUtc(note.createdAt)}`;
  const count = note.actions.length;
  return `*Session activity* \u2014 ${count} action${count === 1 ? "" : "s"} \u2014 ${formatUtc(rawNoteTime(note))}`;
}

function bodyLines(note: OutgoingNote): string[] {
  const lines =
    note.kind === "raw" && note.actions.length > 0
      ? note.actions.map((a, i) => formatActionLine(a, i + 1))
      : (note.summary ?? note.text).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  const extractive = note.kind === "summary" && note.extractive ? ["_Extractive summary: the key actions, not a written summary (its first line says why)._"] : [];
  return [...extractive, ...lines.map(escapeMrkdwn)];
}

/**
 * A note as the texts of its messages, in order: one when it fits in `limit` characters, else parts
 * split at line boundaries (a line longer than a part is cut), each with the header and its marker.
 */
export function formatSlackNote(note: OutgoingNote, limit = SLACK_MAX_TEXT_CHARS): string[] {
  const header = headerOf(note);
  const lines = bodyLines(note);
  const whole = [header, ...lines, MARKER + note.key].join("\n");
  if (whole.length <= limit) return [whole];
  // Room for the header, " (99/99)", the marker and its " 99/99", and the newlines between.
  const room = Math.max(100, limit - header.length - note.key.length - MARKER.length - 40);
  const chunks: string[][] = [[]];
  let used = 0;
  for (const line of lines.flatMap((l) => cut(l, room))) {
    if (used + line.length + 1 > room && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      used = 0;
    }
    chunks.at(-1)!.push(line);
    used += line.length + 1;
  }
  const of = chunks.length;
  return chunks.map((chunk, i) => [`${header} (${i + 1}/${of})`, ...chunk, `${MARKER}${note.key} ${i + 1}/${of}`].join("\n"));
}

function cut(line: string, room: number): string[] {
  const parts: string[] = [];
  // Never cut inside an entity (&amp;): back off to before its `&`.
  let rest = line;
  while (rest.length > room) {
    let at = room;
    const amp = rest.lastIndexOf("&", at);
    if (amp > at - 5 && amp > 0) at = amp;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  parts.push(rest);
  return parts;
}

/**
 * DELIVERY=replace: the session's one context message, the latest summary then the raw activity since,
 * ending with its marker. Past `limit` the oldest raw lines give way, and a line says how many (a
 * message cannot be split when it is edited in place).
 */
export function formatContextMessage(session: SessionRef, context: ContextMessage, limit = SLACK_MAX_TEXT_CHARS): string {
  const who = [`session ${escapeMrkdwn(session.sessionId)}`, session.userId ? `user ${escapeMrkdwn(session.userId)}` : null].filter((p) => p !== null);
  const head = `*Session context* \u2014 ${who.join(" \u00b7 ")} \u2014 updated ${formatUtc(context.updatedAt)}`;
  const { summary } = context;
  const summaryLines = summary
    ? [
        `*Summary* \u2014 window ${summary.window}`,
        ...(summary.extractive ? ["_Extractive summary: the key actions, not a written summary._"] : []),
        ...summary.text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "").map(escapeMrkdwn),
      ]
    : [];
  // A raw note's first line is its own header ("Session … — N actions"): the message has one.
  const raw = context.raw.flatMap((note) => note.text.split(/\r?\n/).slice(1)).filter((l) => l.trim() !== "").map(escapeMrkdwn);
  const rawHead = raw.length > 0 ? [`*Recent activity* \u2014 ${raw.length} action${raw.length === 1 ? "" : "s"}`] : [];
  const tail = `${MARKER}${context.key}`;
  const compose = (shown: string[], hidden: number) =>
    [head, ...summaryLines, ...rawHead, ...(hidden > 0 ? [`_\u2026 ${hidden} earlier line${hidden === 1 ? "" : "s"} not shown (Slack's message limit)_`] : []), ...shown, tail].join("\n");
  let hidden = 0;
  let text = compose(raw, 0);
  while (text.length > limit && hidden < raw.length) {
    hidden = Math.min(raw.length, hidden + Math.max(1, Math.ceil((text.length - limit) / 200)));
    text = compose(raw.slice(hidden), hidden);
  }
  return text.length > limit ? text.slice(0, limit - tail.length - 2) + "\u2026\n" + tail : text;
}
