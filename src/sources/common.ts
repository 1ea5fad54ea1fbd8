/**
 * @module
 * What every event source shares (pure; no I/O): the parse result and its limits, the small
 * readers every source uses on untrusted JSON (ids, strings, timestamps), the wording of the
 * actions all sources produce (pageview, screen, custom event), and the grouping of accepted
 * events into one or more `ActionsPayload`s per session.
 */
import { isUsableId } from "../http/ids";
import type { ActionsPayload, SlimAction } from "../session/model";
import { canonicalizeUrl, MAX_URL_LENGTH, pageNameFromUrl } from "./urls";

/** Events accepted in one request; more is answered 413 by the route. */
export const MAX_EVENTS_PER_REQUEST = 1000;
/** Actions per emitted payload; a larger session batch is split, in order, into several payloads. */
export const MAX_ACTIONS_PER_PAYLOAD = 100;

/** Why an event produced no action. */
export type DropReason = "low_signal" | "no_session" | "duplicate" | "invalid";
/** Dropped events by reason; only non-zero reasons appear. */
export type DropCounts = Partial<Record<DropReason, number>>;

/** One payload to ingest, with the ids of the events it holds (uuids, or content fingerprints). */
export interface SourceBatch {
  payload: ActionsPayload;
  eventIds: string[];
}

/** Result of parsing one request body. */
export type SourceParseResult =
  | { ok: true; batches: SourceBatch[]; dropped: DropCounts; events: number }
  | { ok: false; code: "invalid_payload" | "too_many_events"; message: string };

/** Parsing context: the product from the URL and the receive time (unix seconds) as `forwarded_at`. */
export interface SourceParseOptions {
  productId: string;
  now: number;
  maxEvents?: number;
  maxActionsPerPayload?: number;
}

/** The action-specific part of a SlimAction, as a source describes it. */
export interface ActionText {
  type: string;
  title: string;
  description: string;
  raw_url: string;
  canonical_url: string;
}

/** One accepted source event, before grouping: `action` null means identity only (no action). */
export interface SourceEvent {
  id: string;
  sessionKey: string;
  at: number;
  order: number;
  userId: string | null;
  email: string | null;
  action: ActionText | null;
}

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});

/** The id if it can name a session or a user (the one id rule of `src/http/ids.ts`), else null. */
export function usableId(id: string | null): string | null {
  return id !== null && isUsableId(id) ? id : null;
}

/** First argument that is a non-blank string, trimmed; null when none is. */
export function firstString(...values: unknown[]): string | null {
  for (const v of values) if (typeof v === "string" && v.trim() !== "") return v.trim();
  return null;
}

/** Collapses whitespace and cuts to `max` characters (ending with "…" when cut). */
export function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length <= max ? t : t.slice(0, max - 1).trimEnd() + "\u2026";
}

/**
 * Unix seconds (millisecond precision) from an ISO-8601 string (a missing zone means UTC, as in
 * PostHog's ClickHouse format "2024-05-01 12:00:00.123"), or from a number in seconds or
 * milliseconds. Null when absent or unparseable.
 */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    return value > 1e11 ? Math.round(value) / 1000 : value;
  }
  if (typeof value !== "string" || value.trim() === "") return null;
  let s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return parseTimestamp(Number(s));
  s = s.replace(/^(\d{4}-\d\d-\d\d) (\d)/, "$1T$2");
  if (/T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s)) s += "Z";
  const ms = Date.parse(s);
  return Number.isFinite(ms) && ms > 0 ? ms / 1000 : null;
}

/**
 * A readable name for a custom event: kept as sent when it has spaces ("Report Exported"),
 * otherwise snake/kebab/camel case split into words ("signup_completed" → "Signup completed").
 */
export function humanizeEventName(name: string): string {
  const n = name.trim();
  if (/\s/.test(n)) return clip(n, 80);
  const words = n
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_\-.:]+/g, " ")
    .trim()
    .toLowerCase();
  return clip(words.charAt(0).toUpperCase() + words.slice(1), 80);
}

/** " on the {page} page", or nothing when the page is unknown. */
export const on = (page: string): string => (page ? ` on the ${page} page` : "");
/** A label in single quotes, cut to 60 characters. */
export const quoted = (label: string): string => `'${clip(label, 60)}'`;

/** "Page Load: {title}" / "User landed on the {page} page", with the document title when it adds something. */
export function describePageview(url: string, documentTitle: string | null): Pick<ActionText, "title" | "description"> {
  const page = pageNameFromUrl(url);
  const docTitle = documentTitle ? clip(documentTitle, 80) : "";
  const titleAddsInfo = docTitle !== "" && !docTitle.toLowerCase().includes(page.toLowerCase());
  let description = "User landed on a page";
  if (page) description = `User landed on the ${page} page${titleAddsInfo ? ` (title ${quoted(docTitle)})` : ""}`;
  else if (docTitle) description = `User landed on the page ${quoted(docTitle)}`;
  return { title: `Page Load: ${docTitle || page || "unknown page"}`, description };
}

/** "Screen View: {name}" / "User opened the {name} screen" (mobile `$screen`, Segment `screen`). */
export function describeScreen(name: string): Pick<ActionText, "title" | "description"> {
  const n = clip(name, 80) || "unknown";
  return { title: `Screen View: ${n}`, description: `User opened the ${n} screen` };
}

/** Humanised event name / "User triggered the '{name}' event on the {page} page". */
export function describeCustom(event: string, url: string): Pick<ActionText, "title" | "description"> {
  const name = humanizeEventName(event);
  return { title: name, description: `User triggered the ${quoted(name)} event${on(pageNameFromUrl(url))}` };
}

/** The action fields every source shares: URL kept raw (cut to the URL limit) and canonical. */
export function actionText(type: string, text: Pick<ActionText, "title" | "description">, url: string): ActionText {
  return {
    type,
    title: clip(text.title, 200),
    description: clip(text.description, 500),
    raw_url: url.slice(0, MAX_URL_LENGTH),
    canonical_url: canonicalizeUrl(url),
  };
}

// ---------------------------------------------------------------------------------------------
// grouping

/** Adds one to a reason's count. */
export function countDrop(dropped: DropCounts, reason: DropReason): void {
  dropped[reason] = (dropped[reason] ?? 0) + 1;
}

/**
 * Groups accepted events by session (sessions ordered by their earliest event), orders each session's
 * actions by time (ties keep arrival order), sets `timestamp_end` to the next action's start
 * (the last action: its own start), and splits sessions longer than `maxActionsPerPayload`.
 * Batch `user_id` is the latest action's, batch `email` the latest known one (identity-only
 * events included); each action keeps its own event's identity.
 */
export function assemblePayloads(events: readonly SourceEvent[], opts: SourceParseOptions): SourceBatch[] {
  const max = Math.max(1, opts.maxActionsPerPayload ?? MAX_ACTIONS_PER_PAYLOAD);
  const sessions = new Map<string, SourceEvent[]>();
  for (const e of events) {
    const list = sessions.get(e.sessionKey);
    if (list) list.push(e);
    else sessions.set(e.sessionKey, [e]);
  }
  const batches: SourceBatch[] = [];
  // Sessions in order of their earliest event, so the result never depends on delivery order.
  const ordered = [...sessions].map(([key, all]) => [key, [...all].sort((a, b) => a.at - b.at || a.order - b.order)] as const);
  ordered.sort(([ka, a], [kb, b]) => a[0]!.at - b[0]!.at || (ka < kb ? -1 : ka > kb ? 1 : 0));
  for (const [sessionKey, sorted] of ordered) {
    const actions = sorted.filter((e) => e.action !== null);
    if (actions.length === 0) continue;
    const email = sorted.findLast((e) => e.email)?.email ?? null;
    const userId = actions.findLast((e) => e.userId)?.userId ?? null;
    const slim: SlimAction[] = actions.map((e, i) => ({
      ...e.action!,
      index: 0,
      timestamp_start: e.at,
      timestamp_end: actions[i + 1]?.at ?? e.at,
      session_id: sessionKey,
      user_id: e.userId,
      email: e.email,
      conversation_id: null,
    }));
    for (let start = 0; start < slim.length; start += max) {
      const chunk = slim.slice(start, start + max).map((a, index) => ({ ...a, index }));
      batches.push({
        payload: {
          product_id: opts.productId,
          session_id: sessionKey,
          user_id: userId,
          email,
          conversation_id: null,
          forwarded_at: opts.now,
          actions: chunk,
        },
        eventIds: actions.slice(start, start + max).map((e) => e.id),
      });
    }
  }
  return batches;
}

