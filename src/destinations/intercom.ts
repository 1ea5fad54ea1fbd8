/**
 * @module
 * Intercom destination: raw and summary notes are internal admin notes on the session's conversation
 * (`POST /conversations/{id}/reply`), removed with `POST /conversations/redact`.
 *
 * Intercom has no idempotency key, so every note body ends with a visible marker of its key
 * (`ctx:<key>`, see intercomFormat.ts). A post whose outcome is unknown (timeout, dropped connection, a 5xx
 * that may follow a committed write) returns `retry` with `unknownOutcome`; the core then calls `find`,
 * which reads the conversation and looks for the marker, and re-posts only when it is absent.
 * Rate limits are paced per workspace token (rateLimit.ts): a call the pace holds back is `held` (nothing
 * is sent, so it is never an attempt), and every 429 answered waits for `X-RateLimit-Reset`.
 */
import { callHttp, type Answered, type Exchange } from "../outbound/http";
import { classifyStatus, parseRetryAfter } from "../outbound/status";
import { held, retry, type Done, type Held } from "../result";
import { classifyError, type IntercomOp } from "./intercomErrors";
import { formatNoteHtml } from "./intercomFormat";
import { findMarkedPart, pickPostedPart } from "./intercomParts";
import { paceKey, rateLimitedUntil, sharedPacer, type TokenPacer } from "./rateLimit";
import type { Destination, DestinationDeps, Failed, FindResult, PostResult, Retry } from "./types";

/** Regional REST hosts. A token only works against the region of its workspace. */
export const INTERCOM_API_BASES = {
  us: "https://api.intercom.io",
  eu: "https://api.eu.intercom.io",
  au: "https://api.au.intercom.io",
} as const;

/** Pinned so Intercom's answers do not change shape when the app's default version moves. */
export const DEFAULT_INTERCOM_VERSION = "2.14";

export interface IntercomSettings {
  accessToken: string;
  /** The admin the notes are written as (`GET /me` with the token shows its id). */
  adminId: string;
  apiBase: string;
  version: string;
}

/**
 * Reads the Intercom settings from the environment.
 * @param raw `INTERCOM_ACCESS_TOKEN` (secret, required), `INTERCOM_ADMIN_ID` (required), `INTERCOM_API_BASE`
 *   (a URL, or `us` / `eu` / `au`; default US), `INTERCOM_VERSION` (default {@link DEFAULT_INTERCOM_VERSION}).
 * @throws Error naming the setting when one is missing or unusable (never echoing the token).
 * @example readIntercomSettings({ INTERCOM_ACCESS_TOKEN: "…", INTERCOM_ADMIN_ID: "991267696", INTERCOM_API_BASE: "eu" })
 */
export function readIntercomSettings(raw: Readonly<Record<string, string | undefined>>): IntercomSettings {
  const accessToken = raw.INTERCOM_ACCESS_TOKEN?.trim();
  const adminId = raw.INTERCOM_ADMIN_ID?.trim();
  if (!accessToken) {
    throw new Error("DESTINATION=intercom needs INTERCOM_ACCESS_TOKEN (wrangler secret put INTERCOM_ACCESS_TOKEN)");
  }
  if (!adminId) throw new Error("DESTINATION=intercom needs INTERCOM_ADMIN_ID (the id of the admin notes are written as)");
  if (!/^\d{1,20}$/.test(adminId)) throw new Error(`INTERCOM_ADMIN_ID must be a numeric admin id, got "${adminId.slice(0, 40)}"`);
  const version = raw.INTERCOM_VERSION?.trim() || DEFAULT_INTERCOM_VERSION;
  if (!/^(\d{1,2}\.\d{1,2}|Unstable|Preview)$/.test(version)) {
    throw new Error(`INTERCOM_VERSION must look like "2.14" (or Unstable / Preview), got "${version.slice(0, 40)}"`);
  }
  return { accessToken, adminId, apiBase: readApiBase(raw.INTERCOM_API_BASE), version };
}

function readApiBase(value: string | undefined): string {
  const v = value?.trim() || "us";
  const region = INTERCOM_API_BASES[v.toLowerCase() as keyof typeof INTERCOM_API_BASES];
  if (region) return region;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Error(`INTERCOM_API_BASE must be us, eu, au or an https URL, got "${v.slice(0, 80)}"`);
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
    throw new Error("INTERCOM_API_BASE must be an https URL (http only for localhost)");
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** Options for tests: a private pacer instead of the isolate's shared one. */
export interface IntercomDestinationOptions {
  pacer?: TokenPacer;
}

/**
 * Creates the Intercom destination.
 * @param settings from {@link readIntercomSettings}
 * @param deps `fetch` (the only way out), `now`, and `timeoutMs` per request; a timeout is an unknown outcome.
 * @param options.pacer defaults to the isolate-wide {@link sharedPacer}
 * @example createIntercomDestination(readIntercomSettings(config.raw), { fetch, now: Date.now, timeoutMs: 10_000 })
 */
export function createIntercomDestination(
  settings: IntercomSettings,
  deps: DestinationDeps,
  options: IntercomDestinationOptions = {},
): Destination {
  const pacer = options.pacer ?? sharedPacer;
  const key = paceKey(settings.apiBase, settings.accessToken);

  /** One request, unless the workspace's pace holds it back (then nothing is sent). */
  async function call(method: "GET" | "POST", path: string, payload?: unknown): Promise<Exchange | Held> {
    const pace = pacer.acquire(key, deps.now());
    if (pace.kind === "wait") return held(pace.untilMs, "intercom rate pacer");
    const headers: Record<string, string> = {
      authorization: `Bearer ${settings.accessToken}`,
      accept: "application/json",
      "intercom-version": settings.version,
      ...(payload === undefined ? {} : { "content-type": "application/json" }),
    };
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const answer = await callHttp(deps.fetch, { url: `${settings.apiBase}${path}`, method, headers, body }, deps.timeoutMs);
    if (answer.kind === "answered") {
      pacer.observe(key, answer.headers);
      if (answer.status === 429) pacer.block(key, rateLimitedUntil(answer.headers, deps.now()));
    }
    return answer;
  }

  /** Everything but a 2xx: held by the pace, lost on the way, or an error status. */
  function otherwise(op: IntercomOp, outcome: Exchange | Held, link: string): Done | Retry | Failed | Held {
    if (outcome.kind === "held") return outcome;
    if (outcome.kind === "lost") {
      const error = `intercom ${op} ${outcome.why} after ${deps.timeoutMs} ms or less`;
      return retry(error, op === "post" ? { unknownOutcome: true } : {});
    }
    // A 429 waits for X-RateLimit-Reset (what the pacer now holds); anything else for Retry-After, if given.
    const now = deps.now();
    const wait = outcome.status === 429 ? rateLimitedUntil(outcome.headers, now) - now : parseRetryAfter(outcome.headers.get("retry-after"), now);
    return classifyError(op, outcome.status, outcome.json, link, wait);
  }

  const conversationPath = (link: string) => `/conversations/${encodeURIComponent(link)}`;

  return {
    name: "intercom",
    needsLink: true,

    async post(session, note): Promise<PostResult> {
      if (!session.link) return { kind: "failed", error: "intercom: the session has no conversation link yet" };
      const outcome = await call("POST", `${conversationPath(session.link)}/reply`, {
        message_type: "note",
        type: "admin",
        admin_id: settings.adminId,
        body: formatNoteHtml(session, note),
      });
      if (!isSuccess(outcome)) {
        const result = otherwise("post", outcome, session.link);
        return result.kind === "done" ? { kind: "failed", error: "intercom post: unexpected answer" } : result;
      }
      const partId = pickPostedPart(outcome.json, settings.adminId, note.key);
      if (partId !== null) return { kind: "done", partId };
      // Written but unidentifiable: parking beats re-posting, which would duplicate the note.
      return {
        kind: "failed",
        error: `intercom accepted note ${note.key} but its part could not be identified in the answer (no note by admin ${settings.adminId} carries the marker)`,
      } satisfies Failed;
    },

    async redact(session, part) {
      const link = part.link ?? session.link;
      // Without a conversation there is nothing Intercom could still show.
      if (!link) return { kind: "done" };
      const outcome = await call("POST", "/conversations/redact", {
        type: "conversation_part",
        conversation_id: link,
        conversation_part_id: part.partId,
      });
      if (isSuccess(outcome)) return { kind: "done" };
      return otherwise("redact", outcome, link);
    },

    async find(session, note): Promise<FindResult> {
      if (!session.link) return { kind: "done", partId: null };
      const outcome = await call("GET", conversationPath(session.link));
      if (outcome.kind === "answered" && outcome.status === 404) return { kind: "done", partId: null };
      if (!isSuccess(outcome)) {
        const result = otherwise("find", outcome, session.link);
        return result.kind === "done" ? { kind: "done", partId: null } : result;
      }
      return { kind: "done", partId: findMarkedPart(outcome.json, settings.adminId, note.key) };
    },
  };
}

function isSuccess(outcome: Exchange | Held): outcome is Answered {
  return outcome.kind === "answered" && classifyStatus(outcome.status) === "done";
}
