/**
 * @module
 * Segment Spec calls → `ActionsPayload`s, one per session (pure; no I/O). Accepts one call, a
 * `{"batch":[…]}` (the HTTP Tracking API's batch shape, whose top-level `context` applies to every
 * call) or a bare array. `page` and `screen` become pageviews, `track` a custom action;
 * `identify`, `group` and `alias` carry no action (`low_signal`), though an identify's email
 * still names its session's user.
 *
 * Segment has no standard session id: `context.sessionId` or `properties.session_id` is used when
 * present, otherwise `userId ?? anonymousId`, so such a user's calls form one long-running session
 * (the relay's windows and summaries keep it bounded).
 */
import { z } from "@hono/zod-openapi";
import {
  actionText,
  assemblePayloads,
  countDrop,
  describeCustom,
  describePageview,
  describeScreen,
  firstString,
  isObj,
  MAX_EVENTS_PER_REQUEST,
  obj,
  parseTimestamp,
  usableId,
  type ActionText,
  type DropCounts,
  type Obj,
  type SourceEvent,
  type SourceParseOptions,
  type SourceParseResult,
} from "./common";

/**
 * A Segment `track`/`page`/`screen` call, or `{"batch":[…]}` of them, as the OpenAPI document
 * describes it. A description, not a check: `parseSegmentBody` reads bodies leniently.
 */
export const SegmentBodySchema = z
  .union([
    z.looseObject({ batch: z.array(z.looseObject({ type: z.string() })), context: z.record(z.string(), z.unknown()).optional() }),
    z.looseObject({
      type: z.enum(["track", "page", "screen", "identify", "group", "alias"]),
      messageId: z.string().optional(),
      userId: z.string().nullish(),
      anonymousId: z.string().nullish(),
      event: z.string().optional(),
      name: z.string().optional(),
      timestamp: z.string().optional(),
      properties: z.record(z.string(), z.unknown()).optional(),
      context: z.record(z.string(), z.unknown()).optional(),
    }),
  ]);

// Amplitude-style session ids are numbers (epoch milliseconds).
const idString = (...values: unknown[]): string | null =>
  firstString(...values.map((v) => (typeof v === "number" && Number.isFinite(v) ? String(v) : v)));

const IDENTITY_CALLS = new Set(["identify", "group", "alias"]);

function callList(body: unknown): { calls: unknown[]; context: Obj } | null {
  if (Array.isArray(body)) return { calls: body, context: {} };
  if (!isObj(body)) return null;
  if (Array.isArray(body.batch)) return { calls: body.batch, context: obj(body.context) };
  if (typeof body.type === "string") return { calls: [body], context: {} };
  return null;
}

function describeCall(type: string, call: Obj, props: Obj, page: Obj): ActionText {
  if (type === "page") {
    const url = firstString(props.url, page.url, props.path, page.path) ?? "";
    return actionText("pageview", describePageview(url, firstString(call.name, props.name, props.title, page.title)), url);
  }
  const url = firstString(page.url, props.url, page.path, props.path) ?? "";
  if (type === "screen") return actionText("pageview", describeScreen(firstString(call.name, props.name) ?? ""), url);
  return actionText("custom", describeCustom(firstString(call.event) ?? "", url), url);
}

/**
 * Parses a Segment body into one or more payloads per session, deduplicated by `messageId` (a
 * content fingerprint when a call has none), with dropped calls counted by reason. Never throws.
 */
export function parseSegmentBody(body: unknown, opts: SourceParseOptions): SourceParseResult {
  const list = callList(body);
  if (!list) {
    return { ok: false, code: "invalid_payload", message: 'expected a Segment call {"type":"track"|"page",...} or {"batch":[...]}' };
  }
  const maxEvents = opts.maxEvents ?? MAX_EVENTS_PER_REQUEST;
  if (list.calls.length > maxEvents) {
    return { ok: false, code: "too_many_events", message: `at most ${maxEvents} events per request, got ${list.calls.length}` };
  }
  const dropped: DropCounts = {};
  const seen = new Set<string>();
  const accepted: SourceEvent[] = [];
  list.calls.forEach((item, order) => {
    if (!isObj(item) || typeof item.type !== "string") return countDrop(dropped, "invalid");
    const type = item.type.toLowerCase();
    const props = obj(item.properties);
    const context = { ...list.context, ...obj(item.context) };
    const page = obj(context.page);
    const userId = usableId(idString(item.userId, item.anonymousId));
    const sessionKey = idString(context.sessionId, props.session_id) ?? idString(item.userId, item.anonymousId);
    const email = usableId(firstString(obj(context.traits).email, obj(item.traits).email, props.email));
    const rawTimestamp = item.timestamp ?? item.originalTimestamp ?? item.sentAt ?? item.receivedAt;
    const at = parseTimestamp(rawTimestamp);
    const id =
      firstString(item.messageId) ?? `fp:${JSON.stringify([type, item.event ?? item.name ?? null, rawTimestamp ?? null, sessionKey, page.url ?? props.url ?? null])}`;
    if (seen.has(id)) return countDrop(dropped, "duplicate");
    seen.add(id);
    const usableKey = usableId(sessionKey);
    if (IDENTITY_CALLS.has(type)) {
      if (usableKey && email && at !== null) accepted.push({ id, sessionKey: usableKey, at, order, userId, email, action: null });
      return countDrop(dropped, "low_signal");
    }
    if (type !== "track" && type !== "page" && type !== "screen") return countDrop(dropped, "invalid");
    if (type === "track" && !firstString(item.event)) return countDrop(dropped, "invalid");
    if (at === null) return countDrop(dropped, "invalid");
    if (!sessionKey) return countDrop(dropped, "no_session");
    if (!usableKey) return countDrop(dropped, "invalid");
    accepted.push({ id, sessionKey: usableKey, at, order, userId, email, action: describeCall(type, item, props, page) });
  });
  return { ok: true, batches: assemblePayloads(accepted, opts), dropped, events: list.calls.length };
}
