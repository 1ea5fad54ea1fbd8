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
import type { ActionsPayload, SlimAction } from "../session/model";
import { canonicalizeUrl, MAX_URL_LENGTH, pageNameFromUrl } from "./urls";

/** Events accepted in one request; more is answered 413 by the route. */
export const MAX_EVENTS_PER_REQUEST = 1000;
/** Actions per emitted payload; a larger session batch is split, in order, into several payloads. */
export const MAX_ACTIONS_PER_PAYLOAD = 100;
/** Longest session key, user id or email kept (the ingest limit for ids; PostHog session ids are 36 characters). */
export const MAX_ID_LENGTH = 256;

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

type Obj = Record<string, unknown>;

const KEPT_DOLLAR_EVENTS = new Set(["$pageview", "$screen", "$autocapture", "$rageclick", "$dead_click", "$copy_autocapture", "$exception"]);

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});

// Ids end up in actor names and log lines: no control characters, bounded length.
// eslint-disable-next-line no-control-regex
const USABLE_ID = /^[^\u0000-\u001f\u007f]+$/;

/** The id if it can name a session or a user (≤ MAX_ID_LENGTH, no control characters), else null. */
export function usableId(id: string | null): string | null {
  return id !== null && id.length <= MAX_ID_LENGTH && USABLE_ID.test(id) ? id : null;
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

const on = (page: string): string => (page ? ` on the ${page} page` : "");
const quoted = (label: string): string => `'${clip(label, 60)}'`;

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
// elements_chain

/** One element of an autocapture chain: tag, classes, and its attributes (`text`, `attr__href`, …). */
export interface ChainElement {
  tag: string;
  classes: string[];
  attrs: Record<string, string>;
}

/**
 * Parses PostHog's `elements_chain`: elements separated by ";" (clicked element first), each
 * `tag.class1.class2:key="value"key2="value"` with `\"` escaping quotes inside values. Classes
 * may contain ":" (Tailwind's "md:flex"), so attributes start at the first ":" followed by `key=`.
 */
export function parseElementsChain(chain: string): ChainElement[] {
  const elements: ChainElement[] = [];
  for (const part of splitOutsideQuotes(chain)) {
    const m = /^(.*?)(?:$|:([A-Za-z0-9_-]*=[\s\S]*))/.exec(part)!;
    const [tagAndId = "", ...classes] = (m[1] ?? "").split(".");
    // PostHog writes no "#id" in the tag, but hand-built chains (tests, other SDKs) sometimes do.
    const [tag = "", hashId] = tagAndId.split("#", 2);
    const attrs: Record<string, string> = hashId ? { attr__id: hashId } : {};
    for (const a of (m[2] ?? "").matchAll(/([^\s="]+)="((?:\\.|[^"\\])*)"/g)) {
      attrs[a[1]!] = a[2]!.replace(/\\"/g, '"');
    }
    elements.push({ tag: tag.toLowerCase(), classes: classes.filter(Boolean), attrs });
  }
  return elements;
}

function splitOutsideQuotes(chain: string): string[] {
  const parts: string[] = [];
  let current = "";
  let inQuotes = false;
  for (let i = 0; i < chain.length; i++) {
    const ch = chain[i]!;
    if (inQuotes && ch === "\\" && i + 1 < chain.length) {
      current += ch + chain[++i];
      continue;
    }
    if (ch === '"') inQuotes = !inQuotes;
    if (ch === ";" && !inQuotes) {
      if (current.trim()) parts.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** posthog-js's raw `$elements` array (before the server builds the chain) in chain form. */
function elementsFromArray(list: unknown[]): ChainElement[] {
  return list.filter(isObj).map((e) => {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(e)) if (k.startsWith("attr__") && typeof v === "string") attrs[k] = v;
    const text = firstString(e.$el_text, e.text);
    if (text) attrs.text = text;
    const classes = Array.isArray(e.classes) ? e.classes.filter((c): c is string => typeof c === "string") : [];
    return { tag: (firstString(e.tag_name) ?? "").toLowerCase(), classes, attrs };
  });
}

const attr = (el: ChainElement | undefined, name: string): string | null => (el ? firstString(el.attrs[`attr__${name}`]) : null);
const elText = (el: ChainElement | undefined): string | null => (el ? firstString(el.attrs.text) : null);
const elHref = (el: ChainElement | undefined): string | null => (el ? firstString(el.attrs.attr__href, el.attrs.href) : null);
const elId = (el: ChainElement | undefined): string | null => (el ? firstString(el.attrs.attr__id, el.attrs.attr_id) : null);

const INTERACTIVE_TAGS = new Set(["a", "button", "input", "select", "textarea", "label", "summary", "option", "form"]);
const INTERACTIVE_ROLES: Record<string, string> = {
  button: "button",
  link: "link",
  tab: "tab",
  menuitem: "menu item",
  checkbox: "checkbox",
  switch: "toggle",
  radio: "radio button",
  option: "option",
  combobox: "dropdown",
  textbox: "field",
};
const BUTTON_INPUTS = new Set(["submit", "button", "reset", "image"]);

const roleNoun = (el: ChainElement): string | null => {
  const role = (attr(el, "role") ?? "").toLowerCase();
  return Object.hasOwn(INTERACTIVE_ROLES, role) ? INTERACTIVE_ROLES[role]! : null;
};

function isInteractive(el: ChainElement): boolean {
  return INTERACTIVE_TAGS.has(el.tag) || roleNoun(el) !== null;
}

function nounFor(el: ChainElement | undefined): string {
  if (!el) return "element";
  const byRole = roleNoun(el);
  if (byRole) return byRole;
  const inputType = (attr(el, "type") ?? "text").toLowerCase();
  switch (el.tag) {
    case "a":
      return "link";
    case "button":
      return "button";
    case "select":
      return "dropdown";
    case "textarea":
      return "field";
    case "form":
      return "form";
    case "label":
      return "label";
    case "summary":
      return "section toggle";
    case "option":
      return "option";
    case "img":
      return "image";
    case "svg":
    case "path":
    case "i":
      return "icon";
    case "input":
      if (BUTTON_INPUTS.has(inputType)) return "button";
      if (inputType === "checkbox") return "checkbox";
      if (inputType === "radio") return "radio button";
      if (inputType === "range") return "slider";
      if (inputType === "file") return "file picker";
      return "field";
    default:
      return "element";
  }
}

/** Values from the Hog flat payload that stand in for the chain when it is missing. */
interface TargetHints {
  text: string | null;
  elementId: string | null;
  href: string | null;
  inputName: string | null;
}

interface Target {
  noun: string;
  label: string | null;
  href: string | null;
}

/**
 * What was acted on: the nearest interactive element among the first few of the chain (a click on
 * the <span> inside a <button> is a click on the button), its kind as a noun, and the best label
 * a person would recognise: visible text first, then accessible names, then names and ids.
 * Input values are never used except on button-like inputs, where the value is the caption.
 */
function describeTarget(elements: ChainElement[], text: string | null, hints: TargetHints): Target {
  const head = elements.slice(0, 5);
  const at = head.findIndex(isInteractive);
  const target = at >= 0 ? head[at] : head[0];
  const upTo = at >= 0 ? head.slice(0, at + 1) : head.slice(0, 1);
  const buttonValue = target?.tag === "input" && BUTTON_INPUTS.has((attr(target, "type") ?? "").toLowerCase()) ? attr(target, "value") : null;
  const label = firstString(
    text,
    ...upTo.map(elText),
    attr(target, "aria-label"),
    attr(target, "title"),
    buttonValue,
    ...upTo.map((e) => attr(e, "aria-label") ?? attr(e, "alt") ?? attr(e, "title")),
    attr(target, "name"),
    elId(target),
    attr(target, "placeholder"),
    attr(target, "data-testid"),
    hints.text,
    hints.inputName,
    hints.elementId,
  );
  const noun = target ? nounFor(target) : hints.href ? "link" : hints.inputName ? "field" : "element";
  return { noun, label, href: elHref(target) ?? hints.href };
}

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

// ---------------------------------------------------------------------------------------------
// grouping, shared with the other sources

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
    accepted.push({ id, sessionKey, at: e.at, order, userId: e.distinctId, email: e.email, action: e.describe() });
  });
  return { ok: true, batches: assemblePayloads(accepted, opts), dropped, events: list.length };
}
