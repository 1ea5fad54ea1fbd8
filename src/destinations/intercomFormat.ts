/**
 * @module
 * HTML bodies for Intercom admin notes. Pure: no I/O, no clock (times come from the note).
 *
 * A note reads top-down for a support agent: one header line (what it is, which session, when, in UTC),
 * one paragraph per action or per summary line, and last a short visible marker `ctx:<note key>`.
 * Intercom has no idempotency key, so the marker is how `find` recognises a note whose post timed out.
 * It is visible text because whether Intercom's sanitiser keeps hidden attributes is unverified.
 * Everything that came from users or the LLM is HTML-escaped: Intercom notes render HTML.
 */
import type { SlimAction } from "../session/model";
import type { OutgoingNote, SessionRef } from "./types";

/** Escapes the five characters that matter in HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch]!);
}

const HTML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

const MARKER_PREFIX = "ctx:";
/** Characters a note key is made of; the marker ends where they stop, so `n7-3f9a` never matches `n7-3f9ab`. */
const KEY_CHAR = /[A-Za-z0-9_-]/;

/** The visible marker text for a note key, e.g. `ctx:n7-3f9a`. */
export function noteMarker(key: string): string {
  return MARKER_PREFIX + escapeHtml(key);
}

/**
 * True when an Intercom part body carries the marker of `key` as a whole token. Matches the escaped
 * form, which is what we sent and what Intercom returns (and `&` etc. cannot occur in our keys anyway).
 */
export function bodyHasMarker(body: string | null | undefined, key: string): boolean {
  if (!body) return false;
  const marker = noteMarker(key);
  for (let at = body.indexOf(marker); at !== -1; at = body.indexOf(marker, at + 1)) {
    const next = body.charAt(at + marker.length);
    const prev = body.charAt(at - 1);
    if (!KEY_CHAR.test(next) && !/[A-Za-z0-9]/.test(prev)) return true;
  }
  return false;
}

/** `2026-01-31 09:05:07 UTC` */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `09:05:07` (UTC), or "" for a missing timestamp. */
function clock(seconds: number): string {
  return seconds > 0 ? new Date(seconds * 1000).toISOString().slice(11, 19) : "";
}

/** Longest description or URL shown in a note line: notes are read by people, and each part counts. */
export const MAX_FIELD_CHARS = 500;

function clip(text: string): string {
  return text.length > MAX_FIELD_CHARS ? `${text.slice(0, MAX_FIELD_CHARS)}\u2026` : text;
}

/** One action as an agent reads it: `[3] 09:05:07 · Clicked Export CSV · /reports/:id`. */
export function formatActionLine(action: SlimAction, position: number): string {
  const what = clip(action.description || action.title || action.type || "(no description)");
  const parts = [clock(action.timestamp_start), what, clip(action.canonical_url)].filter((p) => p !== "");
  return `[${position}] ${parts.join(" \u00b7 ")}`;
}

function paragraph(html: string): string {
  return `<p>${html}</p>`;
}

function header(title: string, session: SessionRef, atMs: number, detail: string): string {
  const who = `session ${escapeHtml(session.sessionId)}`;
  return paragraph(`<b>${title}</b> \u2014 ${who} \u2014 ${formatUtc(atMs)}${detail ? ` \u2014 ${escapeHtml(detail)}` : ""}`);
}

/** The earliest action time (the SDK's header time), else when the note was prepared. */
function rawNoteTime(note: OutgoingNote): number {
  const starts = note.actions.map((a) => a.timestamp_start).filter((t) => t > 0);
  return starts.length > 0 ? Math.min(...starts) * 1000 : note.createdAt;
}

/** A raw note: header, then one paragraph per action in the order given, then the marker. */
export function formatRawNoteHtml(session: SessionRef, note: OutgoingNote): string {
  const count = note.actions.length;
  const lines = note.actions.map((a, i) => paragraph(escapeHtml(formatActionLine(a, i + 1))));
  if (count === 0 && note.text) lines.push(...textParagraphs(note.text));
  return [
    header("Session activity", session, rawNoteTime(note), `${count} action${count === 1 ? "" : "s"}`),
    ...lines,
    paragraph(noteMarker(note.key)),
  ].join("");
}

/**
 * A summary note: a bold "Session summary" header naming the window, an italic line when the summary is
 * the built-in extractive one (so nobody mistakes it for an LLM's reading), the summary lines, the marker.
 */
export function formatSummaryNoteHtml(session: SessionRef, note: OutgoingNote): string {
  const text = note.summary ?? note.text;
  return [
    header("Session summary", session, note.createdAt, `window ${note.window}`),
    ...(note.extractive
      ? [paragraph("<i>Extractive summary: the key actions, not a written summary (its first line says why).</i>")]
      : []),
    ...textParagraphs(text),
    paragraph(noteMarker(note.key)),
  ].join("");
}

/** Renders any outgoing note as an Intercom note body. */
export function formatNoteHtml(session: SessionRef, note: OutgoingNote): string {
  return note.kind === "summary" ? formatSummaryNoteHtml(session, note) : formatRawNoteHtml(session, note);
}

function textParagraphs(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => paragraph(escapeHtml(line)));
}
