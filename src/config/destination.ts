/**
 * @module
 * Where notes go: `DESTINATION` and the settings of the destination it names, as one
 * discriminated union. Unknown names and missing or unusable settings are a `ConfigError`, so a
 * misconfigured deployment parks its steps with that error instead of dropping context.
 */
import { ConfigError, oneOf, text, type Vars } from "./settings";

/**
 * How a lane writes (`DELIVERY`): `append` posts each note and redacts what a summary covers; `replace`
 * keeps one context message per session, edited in place (for destinations that can edit).
 */
export type Delivery = "append" | "replace";

export interface WebhookSettings {
  url: string;
  /** HMAC key bytes (from `whsec_<base64>`, or the UTF-8 bytes of any other string). */
  key: Uint8Array;
  /** Absent: append. */
  delivery?: Delivery;
}

export interface IntercomSettings {
  accessToken: string;
  /** The admin the notes are written as (`GET /me` with the token shows its id). */
  adminId: string;
  apiBase: string;
  version: string;
}

/** The Autoplay connector's push: the SDK's payloads, signed as its `WebhookReceiver` checks them. */
export interface AutoplaySettings {
  forwardUrl: string;
  /** Sent as `Authorization: Bearer <secret>` and the HMAC-SHA256 key of `X-Connector-Signature`. */
  secret: string;
}

/**
 * `stream` is the product's SSE stream (`GET /stream/:product_id`): its lane publishes to the
 * product's hub, so it has no settings of its own.
 */
export interface SlackSettings {
  /** A bot token (`xoxb-…`) with `chat:write` and the history scope of the channel type (`channels:history`, …). */
  botToken: string;
  /** The channel a session without a link writes to; null when every session must be linked. */
  channel: string | null;
  apiBase: string;
  /** Absent: append. */
  delivery?: Delivery;
}

export type DestinationConfig =
  | { kind: "store" }
  | ({ kind: "webhook" } & WebhookSettings)
  | ({ kind: "intercom" } & IntercomSettings)
  | ({ kind: "autoplay" } & AutoplaySettings)
  | { kind: "stream" }
  | ({ kind: "slack" } & SlackSettings);

const DESTINATION_KINDS = ["store", "webhook", "intercom", "slack", "autoplay", "stream"] as const satisfies readonly DestinationConfig["kind"][];

/** Regional REST hosts. A token only works against the region of its workspace. */
const INTERCOM_API_BASES = {
  us: "https://api.intercom.io",
  eu: "https://api.eu.intercom.io",
  au: "https://api.au.intercom.io",
} as const;

/** Pinned so Intercom's answers do not change shape when the app's default version moves. */
const DEFAULT_INTERCOM_VERSION = "2.14";

/** Parses `DESTINATION` (default `store`) and that destination's settings. Throws `ConfigError`. */
export function parseDestination(vars: Vars): DestinationConfig {
  const kind = text(vars, "DESTINATION") ?? "store";
  switch (kind) {
    case "store":
      return { kind };
    case "webhook":
      return { kind, ...readWebhookSettings(vars) };
    case "intercom":
      if (readDelivery(vars) === "replace") {
        throw new ConfigError("DELIVERY", "DELIVERY=replace needs a destination that can edit (slack, webhook): Intercom cannot edit a note");
      }
      return { kind, ...readIntercomSettings(vars) };
    case "autoplay":
      return { kind, ...readAutoplaySettings(vars) };
    case "stream":
      return { kind };
    case "slack":
      return { kind, ...readSlackSettings(vars) };
  }
  throw new ConfigError("DESTINATION", `DESTINATION "${kind}" is not one of ${DESTINATION_KINDS.join(", ")}`);
}

/** `WEBHOOK_URL` (http or https) and `WEBHOOK_SECRET` (required: notes are never sent unsigned). */
export function readWebhookSettings(vars: Vars): WebhookSettings {
  const url = text(vars, "WEBHOOK_URL");
  const secret = text(vars, "WEBHOOK_SECRET");
  if (!url) throw new ConfigError("WEBHOOK_URL", "DESTINATION=webhook needs WEBHOOK_URL");
  if (!/^https?:\/\//.test(url)) throw new ConfigError("WEBHOOK_URL", "WEBHOOK_URL must be an http(s) URL");
  // Never send unsigned: a receiver could not tell our notes from anyone's.
  if (!secret) throw new ConfigError("WEBHOOK_SECRET", "DESTINATION=webhook needs WEBHOOK_SECRET (wrangler secret put WEBHOOK_SECRET)");
  return { url, key: secretBytes(secret), ...deliveryOf(vars) };
}

/** `DELIVERY` (default `append`). */
export function readDelivery(vars: Vars): Delivery {
  return oneOf(vars, "DELIVERY", ["append", "replace"] as const, "append");
}

/** Why a replace lane cannot run in independent mode: its one message shows one summary. */
export const REPLACE_NEEDS_ROLLING =
  "DELIVERY=replace needs SUMMARY_MODE=rolling: the context message shows one summary, and only a rolling one covers every earlier window";

/** The settings' `delivery`: present only for `replace` (absent means append, today's behaviour). */
function deliveryOf(vars: Vars): { delivery?: "replace" } {
  if (readDelivery(vars) !== "replace") return {};
  if (text(vars, "SUMMARY_MODE") === "independent") throw new ConfigError("DELIVERY", REPLACE_NEEDS_ROLLING);
  return { delivery: "replace" };
}

/** `AUTOPLAY_FORWARD_URL` (http or https) and `AUTOPLAY_SECRET` (required: payloads are never sent unsigned). */
export function readAutoplaySettings(vars: Vars): AutoplaySettings {
  const forwardUrl = text(vars, "AUTOPLAY_FORWARD_URL");
  const secret = text(vars, "AUTOPLAY_SECRET");
  if (!forwardUrl) throw new ConfigError("AUTOPLAY_FORWARD_URL", "DESTINATION=autoplay needs AUTOPLAY_FORWARD_URL");
  if (!/^https?:\/\//.test(forwardUrl)) throw new ConfigError("AUTOPLAY_FORWARD_URL", "AUTOPLAY_FORWARD_URL must be an http(s) URL");
  if (!secret) throw new ConfigError("AUTOPLAY_SECRET", "DESTINATION=autoplay needs AUTOPLAY_SECRET (wrangler secret put AUTOPLAY_SECRET)");
  return { forwardUrl, secret };
}

function secretBytes(secret: string): Uint8Array {
  if (!secret.startsWith("whsec_")) return new TextEncoder().encode(secret);
  try {
    return Uint8Array.from(atob(secret.slice("whsec_".length)), (ch) => ch.charCodeAt(0));
  } catch {
    throw new ConfigError("WEBHOOK_SECRET", "WEBHOOK_SECRET must be whsec_ followed by base64");
  }
}

/**
 * Reads the Intercom settings.
 * @param vars `INTERCOM_ACCESS_TOKEN` (secret, required), `INTERCOM_ADMIN_ID` (required), `INTERCOM_API_BASE`
 *   (a URL, or `us` / `eu` / `au`; default US), `INTERCOM_VERSION` (default {@link DEFAULT_INTERCOM_VERSION}).
 * @throws ConfigError naming the setting when one is missing or unusable (never echoing the token).
 * @example readIntercomSettings({ INTERCOM_ACCESS_TOKEN: "…", INTERCOM_ADMIN_ID: "991267696", INTERCOM_API_BASE: "eu" })
 */
export function readIntercomSettings(vars: Vars): IntercomSettings {
  const accessToken = text(vars, "INTERCOM_ACCESS_TOKEN");
  const adminId = text(vars, "INTERCOM_ADMIN_ID");
  if (!accessToken) {
    throw new ConfigError("INTERCOM_ACCESS_TOKEN", "DESTINATION=intercom needs INTERCOM_ACCESS_TOKEN (wrangler secret put INTERCOM_ACCESS_TOKEN)");
  }
  if (!adminId) {
    throw new ConfigError("INTERCOM_ADMIN_ID", "DESTINATION=intercom needs INTERCOM_ADMIN_ID (the id of the admin notes are written as)");
  }
  if (!/^\d{1,20}$/.test(adminId)) {
    throw new ConfigError("INTERCOM_ADMIN_ID", `INTERCOM_ADMIN_ID must be a numeric admin id, got "${adminId.slice(0, 40)}"`);
  }
  const version = text(vars, "INTERCOM_VERSION") ?? DEFAULT_INTERCOM_VERSION;
  if (!/^(\d{1,2}\.\d{1,2}|Unstable|Preview)$/.test(version)) {
    throw new ConfigError("INTERCOM_VERSION", `INTERCOM_VERSION must look like "2.14" (or Unstable / Preview), got "${version.slice(0, 40)}"`);
  }
  return { accessToken, adminId, apiBase: resolveApiBase(text(vars, "INTERCOM_API_BASE") ?? "us"), version };
}

/** A region name or an https URL (http only for localhost) as a base URL without a trailing slash. */
function resolveApiBase(value: string): string {
  const region = value.toLowerCase();
  // Own keys only: "constructor" is not a region.
  if (Object.hasOwn(INTERCOM_API_BASES, region)) return INTERCOM_API_BASES[region as keyof typeof INTERCOM_API_BASES];
  return apiBaseUrl("INTERCOM_API_BASE", value, "us, eu, au or an https URL");
}

/** An https URL (http only for localhost) as a base URL without a trailing slash. */
function apiBaseUrl(name: "INTERCOM_API_BASE" | "SLACK_API_BASE", value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `${name} must be ${what}, got "${value.slice(0, 80)}"`);
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
    throw new ConfigError(name, `${name} must be an https URL (http only for localhost)`);
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** Slack conversation ids: `C…` public, `G…` private, `D…` direct (upper-case letters and digits). */
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,30}$/;

/**
 * Reads the Slack settings.
 * @param vars `SLACK_BOT_TOKEN` (secret, required), `SLACK_CHANNEL` (a channel id; optional: without it
 *   every session needs a link), `SLACK_API_BASE` (default `https://slack.com/api`).
 * @throws ConfigError naming the setting when one is missing or unusable (never echoing the token).
 * @example readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-…", SLACK_CHANNEL: "C0123456789" })
 */
export function readSlackSettings(vars: Vars): SlackSettings {
  const botToken = text(vars, "SLACK_BOT_TOKEN");
  if (!botToken) throw new ConfigError("SLACK_BOT_TOKEN", "DESTINATION=slack needs SLACK_BOT_TOKEN (wrangler secret put SLACK_BOT_TOKEN)");
  const channel = text(vars, "SLACK_CHANNEL") ?? null;
  if (channel !== null && !SLACK_CHANNEL_ID.test(channel)) {
    throw new ConfigError("SLACK_CHANNEL", `SLACK_CHANNEL must be a channel id such as C0123456789 (not a #name), got "${channel.slice(0, 40)}"`);
  }
  const apiBase = apiBaseUrl("SLACK_API_BASE", text(vars, "SLACK_API_BASE") ?? DEFAULT_SLACK_API_BASE, "an https URL");
  return { botToken, channel, apiBase, ...deliveryOf(vars) };
}

const DEFAULT_SLACK_API_BASE = "https://slack.com/api";
