/**
 * @module
 * The Autoplay data model (`SlimAction`, `ActionsPayload`) with the Python SDK's wire semantics:
 * falsy fields fall back to defaults, `toText` renders the SDK's one-liners, `merge` re-indexes.
 */

export interface SlimAction {
  title: string;
  description: string;
  canonical_url: string;
  index: number;
  type: string;
  timestamp_start: number;
  timestamp_end: number;
  raw_url: string;
  session_id: string | null;
  user_id: string | null;
  email: string | null;
  conversation_id: string | null;
}

export interface ActionsPayload {
  product_id: string;
  session_id: string | null;
  user_id: string | null;
  email: string | null;
  conversation_id: string | null;
  forwarded_at: number;
  actions: SlimAction[];
}

type Raw = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === "string" && v ? v : "");
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const optStr = (v: unknown): string | null => (typeof v === "string" && v ? v : null);
/** Unix seconds; a negative time means nothing, so it reads as missing (0), the SDK's default. */
const time = (v: unknown): number => Math.max(0, num(v));

/**
 * `SlimAction.from_dict`: missing or falsy values become `""`/`0`; identity fields stay null when absent.
 * Timestamps are clamped rather than refused, in the spirit of `from_dict`'s tolerance: a negative one
 * reads as missing (0), and a `timestamp_end` before `timestamp_start` becomes the start (an action
 * cannot end before it began). A missing end stays 0, as the SDK leaves it.
 */
export function slimActionFromDict(raw: Raw): SlimAction {
  const start = time(raw.timestamp_start);
  const end = time(raw.timestamp_end);
  return {
    title: str(raw.title),
    description: str(raw.description),
    canonical_url: str(raw.canonical_url),
    index: Math.trunc(num(raw.index)),
    type: str(raw.type),
    timestamp_start: start,
    timestamp_end: end > 0 && end < start ? start : end,
    raw_url: str(raw.raw_url),
    session_id: optStr(raw.session_id),
    user_id: optStr(raw.user_id),
    email: optStr(raw.email),
    conversation_id: optStr(raw.conversation_id),
  };
}

/** `ActionsPayload.from_dict`; `count` on the wire is ignored (the SDK reconciles it to `actions.length`). */
export function actionsPayloadFromDict(raw: Raw): ActionsPayload {
  const actions = Array.isArray(raw.actions) ? raw.actions : [];
  return {
    product_id: str(raw.product_id),
    session_id: optStr(raw.session_id),
    user_id: optStr(raw.user_id),
    email: optStr(raw.email),
    conversation_id: optStr(raw.conversation_id),
    forwarded_at: num(raw.forwarded_at),
    actions: actions.map((a) => slimActionFromDict((a ?? {}) as Raw)),
  };
}

/** `"[{index}] {type}: {description} — {canonical_url}"` (em dash; the title is not included). */
export function actionToText(a: SlimAction): string {
  return `[${a.index}] ${a.type}: ${a.description} \u2014 ${a.canonical_url}`;
}

/** `"Session {id|unknown} — {n} actions"` then one line per action, as the SDK writes it. */
export function payloadToText(p: ActionsPayload): string {
  const head = `Session ${p.session_id ?? "unknown"} \u2014 ${p.actions.length} actions`;
  return [head, ...p.actions.map(actionToText)].join("\n");
}

/**
 * `ActionsPayload.merge`: concatenate in order and re-index 0..n-1 without mutating the inputs;
 * product and session from the first, the first truthy user/email/conversation, the latest forwarded_at.
 */
export function mergePayloads(payloads: readonly ActionsPayload[]): ActionsPayload {
  const first = payloads[0];
  if (!first) throw new Error("mergePayloads() requires at least one payload");
  const actions = payloads.flatMap((p) => p.actions).map((a, index) => ({ ...a, index }));
  return {
    product_id: first.product_id,
    session_id: first.session_id,
    user_id: payloads.find((p) => p.user_id)?.user_id ?? null,
    email: payloads.find((p) => p.email)?.email ?? null,
    conversation_id: payloads.find((p) => p.conversation_id)?.conversation_id ?? null,
    forwarded_at: Math.max(...payloads.map((p) => p.forwarded_at)),
    actions,
  };
}
