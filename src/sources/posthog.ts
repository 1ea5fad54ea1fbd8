/**
 * @module
 * PostHog webhook bodies → `ActionsPayload`s, one per session (pure; no I/O).
 *
 * Accepted shapes: the native batch `{"batch":[event, …]}` (also a bare JSON array of events),
 * the CDP HTTP-webhook default body `{"event":{…},"person":{…}}`, and the Hog-function flat
 * payload of one event (`event`, `timestamp`, `session_id`, `distinct_id`, `current_url`,
 * `elements_chain`, `button_or_link_text`, …; a raw capture event `{event, properties, …}` is read
 * the same way). The CDP body's `event.url` is a link into the PostHog UI, never the page, so it
 * is never used.
 *
 * Kept events: `$pageview`, `$screen`, `$autocapture`, `$rageclick`, `$dead_click`,
 * `$copy_autocapture`, `$exception` and every custom (non-`$`) event. Every other `$` event
 * (`$pageleave`, `$identify`, `$set`, `$feature_flag_called`, `$groupidentify`, `$create_alias`,
 * `$web_vitals`, `$opt_in`, `$snapshot`, `$heatmap`, …) is dropped as `low_signal`; an email it
 * carries still identifies its session's batch.
 */
import {
  actionText,
  assemblePayloads,
  clip,
  countDrop,
  describeCustom,
  describePageview,
  describeScreen,
  firstString,
  isObj,
  MAX_EVENTS_PER_REQUEST,
  obj,
  on,
  parseTimestamp,
  quoted,
  usableId,
  type ActionText,
  type DropCounts,
  type Obj,
  type SourceEvent,
  type SourceParseOptions,
  type SourceParseResult,
} from "./common";
import { describeTarget, elementsFromArray, parseElementsChain, type Target, type TargetHints } from "./elementsChain";
import { canonicalizeUrl, pageNameFromUrl } from "./urls";

const KEPT_DOLLAR_EVENTS = new Set(["$pageview", "$screen", "$autocapture", "$rageclick", "$dead_click", "$copy_autocapture", "$exception"]);

// ---------------------------------------------------------------------------------------------
// autocapture wording

const article = (noun: string): string => (/^[aeiou]/.test(noun) ? "an" : "a");

/** " to /pricing" for a link whose destination is a real page (not "#", script, mail or phone). */
function linkDestination(href: string | null): string {
  if (!href || /^(#|javascript:|mailto:|tel:|sms:)/i.test(href.trim())) return "";
  const canonical = canonicalizeUrl(href);
  return canonical ? ` to ${canonical}` : "";
}

type Verb = { title: string; past: string };
const VERBS: Record<string, Verb> = {
  click: { title: "Click", past: "clicked" },
  submit: { title: "Submit", past: "submitted" },
  change: { title: "Change", past: "changed" },
  type: { title: "Type in", past: "typed in" },
};

function describeInteraction(type: string, t: Target, page: string, externalUrl: string | null): Pick<ActionText, "title" | "description"> {
  const what = t.label ? `${quoted(t.label)} ${t.noun}` : t.noun;
  const the = t.label ? `the ${what}` : `${article(t.noun)} ${t.noun}`;
  const to = t.noun === "link" || externalUrl ? linkDestination(externalUrl ?? t.href) : "";
  if (type === "rageclick") {
    return { title: `Rage click on ${what}`, description: `User clicked ${the}${to} repeatedly (rage click)${on(page)}` };
  }
  if (type === "deadclick") {
    return { title: `Dead click on ${what}`, description: `User clicked ${the}${to}${on(page)}, but nothing happened (dead click)` };
  }
  const verb = (Object.hasOwn(VERBS, type) ? VERBS[type] : undefined) ?? { title: type.charAt(0).toUpperCase() + type.slice(1), past: `interacted (${type}) with` };
  return { title: `${verb.title} ${what}`, description: `User ${verb.past} ${the}${to}${on(page)}` };
}

function autocaptureType(eventType: string | null): string {
  const t = (eventType ?? "click").toLowerCase();
  if (t === "keydown" || t === "keyup" || t === "keypress" || t === "input") return "type";
  return t.replace(/[^a-z0-9_-]/g, "").slice(0, 32) || "click";
}

// ---------------------------------------------------------------------------------------------
// one PostHog event

interface PosthogEvent {
  name: string;
  uuid: string | null;
  at: number | null;
  sessionKey: string | null;
  distinctId: string | null;
  email: string | null;
  url: string;
  fingerprint: string;
  describe: () => ActionText;
}

/** Reads any accepted event shape into one flat view; null when it is not an event at all. */
function readEvent(item: unknown): PosthogEvent | null {
  if (!isObj(item)) return null;
  const cdp = isObj(item.event);
  const ev = cdp ? (item.event as Obj) : item;
  const person = obj(cdp ? item.person : ev.person);
  const props = obj(ev.properties);
  const name = firstString(ev.event);
  if (!name) return null;

  const sessionId = firstString(props.$session_id, ev.session_id, ev.$session_id);
  const distinctId = firstString(ev.distinct_id, props.distinct_id);
  const host = firstString(props.$host);
  const pathname = firstString(props.$pathname);
  const url =
    firstString(props.$current_url, ev.current_url, ev.$current_url) ?? (host && pathname ? `https://${host}${pathname}` : (pathname ?? ""));
  const chainRaw = firstString(ev.elements_chain, props.$elements_chain) ?? "";
  const rawTimestamp = ev.timestamp ?? props.$time;
  const email = firstString(props.email, obj(person.properties).email, ev.email, obj(props.$set).email, obj(ev.$set).email);

  return {
    name,
    uuid: firstString(ev.uuid),
    at: parseTimestamp(rawTimestamp),
    sessionKey: sessionId ?? distinctId,
    distinctId: usableId(distinctId),
    email: usableId(email),
    url,
    fingerprint: `fp:${JSON.stringify([name, rawTimestamp ?? null, sessionId, distinctId, url, chainRaw, firstString(props.$el_text, ev.button_or_link_text)])}`,
    describe: () => {
      const elements = chainRaw ? parseElementsChain(chainRaw) : Array.isArray(props.$elements) ? elementsFromArray(props.$elements) : [];
      const text = firstString(props.$el_text, ev.button_or_link_text);
      const hints: TargetHints = {
        text: firstString(ev.button_or_link_text),
        elementId: firstString(ev.element_id),
        href: firstString(ev.link_destination),
        inputName: firstString(ev.input_field_name),
      };
      const page = pageNameFromUrl(url);
      switch (name) {
        case "$pageview":
          return actionText("pageview", describePageview(url, firstString(props.title, ev.title)), url);
        case "$screen":
          return actionText("pageview", describeScreen(firstString(props.$screen_name, ev.screen_name) ?? ""), url);
        case "$rageclick":
          return actionText("rageclick", describeInteraction("rageclick", describeTarget(elements, text, hints), page, null), url);
        case "$dead_click":
          return actionText("deadclick", describeInteraction("deadclick", describeTarget(elements, text, hints), page, null), url);
        case "$copy_autocapture": {
          const verb = firstString(props.$copy_type) === "cut" ? "cut" : "copied";
          return actionText("copy", { title: verb === "cut" ? "Cut text" : "Copy text", description: `User ${verb} text${on(page)}` }, url);
        }
        case "$exception":
          return actionText("error", describeException(props, page), url);
        case "$autocapture": {
          const type = autocaptureType(firstString(props.$event_type, ev.event_type, ev.$event_type));
          const external = firstString(props.$external_click_url);
          return actionText(type, describeInteraction(type, describeTarget(elements, text, hints), page, external), url);
        }
        default:
          return actionText("custom", describeCustom(name, url), url);
      }
    },
  };
}

function describeException(props: Obj, page: string): Pick<ActionText, "title" | "description"> {
  const first = obj(Array.isArray(props.$exception_list) ? props.$exception_list[0] : undefined);
  const kind = clip(firstString(first.type, props.$exception_type) ?? "Error", 60);
  const message = firstString(first.value, props.$exception_message);
  return {
    title: `Error: ${kind}`,
    description: `An error occurred${on(page)}: ${kind}${message ? `: ${clip(message, 160)}` : ""}`,
  };
}
/** The event list of a body, or null when the body is none of the accepted shapes. */
function eventList(body: unknown): unknown[] | null {
  if (Array.isArray(body)) return body;
  if (!isObj(body)) return null;
  if (Array.isArray(body.batch)) return body.batch;
  if (isObj(body.event) || typeof body.event === "string") return [body];
  return null;
}

/**
 * Parses a PostHog webhook body (see the module comment for the shapes) into one or more
 * payloads per session, deduplicated by event `uuid` (a content fingerprint when an event has
 * none), with the dropped events counted by reason. Never throws.
 */
export function parsePosthogBody(body: unknown, opts: SourceParseOptions): SourceParseResult {
  const list = eventList(body);
  if (!list) {
    return {
      ok: false,
      code: "invalid_payload",
      message: 'expected a PostHog batch {"batch":[...]}, a CDP webhook body {"event":{...},"person":{...}}, or one flat event {"event":"...",...}',
    };
  }
  const maxEvents = opts.maxEvents ?? MAX_EVENTS_PER_REQUEST;
  if (list.length > maxEvents) {
    return { ok: false, code: "too_many_events", message: `at most ${maxEvents} events per request, got ${list.length}` };
  }
  const dropped: DropCounts = {};
  const seen = new Set<string>();
  const accepted: SourceEvent[] = [];
  list.forEach((item, order) => {
    const e = readEvent(item);
    if (!e) return countDrop(dropped, "invalid");
    const id = e.uuid ?? e.fingerprint;
    if (seen.has(id)) return countDrop(dropped, "duplicate");
    seen.add(id);
    const sessionKey = usableId(e.sessionKey);
    if (e.name.startsWith("$") && !KEPT_DOLLAR_EVENTS.has(e.name)) {
      // Not an action, but an $identify or $set may be the only place the email appears.
      if (sessionKey && e.email && e.at !== null) {
        accepted.push({ id, sessionKey, at: e.at, order, userId: e.distinctId, email: e.email, action: null });
      }
      return countDrop(dropped, "low_signal");
    }
    if (e.at === null) return countDrop(dropped, "invalid");
    if (!e.sessionKey) return countDrop(dropped, "no_session");
    if (!sessionKey) return countDrop(dropped, "invalid");
    let action;
    try {
      action = e.describe();
    } catch {
      // One event this parser cannot read is dropped and counted; it never fails the delivery.
      return countDrop(dropped, "invalid");
    }
    accepted.push({ id, sessionKey, at: e.at, order, userId: e.distinctId, email: e.email, action });
  });
  return { ok: true, batches: assemblePayloads(accepted, opts), dropped, events: list.length };
}
