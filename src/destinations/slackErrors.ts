/**
 * @module
 * Maps Slack Web API answers onto done / retry / failed, per operation. Pure: a table test pins each case.
 *
 * Slack answers almost everything with HTTP 200 and `{"ok": false, "error": "<code>"}`, so the `error`
 * code decides, not the status. Only rate limits (429 + `Retry-After`) and outages (5xx) use the status.
 * The texts built here end up in the session state endpoint when a step parks, so they name the
 * setting to fix and never carry the token (Slack does not echo it; we never add it).
 */
import type { Answered, Lost } from "../outbound/http";
import { classifyStatus, parseRetryAfter } from "../outbound/status";
import { done, failed, retry, type Done, type Failed, type Retry } from "../result";

export type SlackOp = "post" | "thread" | "update" | "delete" | "find";

/** Never wait less than this after a 429 without a usable Retry-After (Slack's post limit is per second). */
export const MIN_SLACK_RATE_LIMIT_WAIT_MS = 1_000;

/** The token is wrong, revoked or of a deactivated app/workspace: only a new token fixes it. */
const BAD_TOKEN = new Set(["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "no_permission", "ekm_access_denied"]);
/** Slack itself is struggling: the same request can succeed later (and a write may have landed). */
const TRANSIENT = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout"]);

/** The `error` code of a Slack answer, or null when it says `ok: true`; `unexpected_answer` when it is not a Slack answer. */
export function slackErrorCode(json: unknown): string | null {
  if (!isRecord(json) || typeof json.ok !== "boolean") return "unexpected_answer";
  if (json.ok) return null;
  return typeof json.error === "string" ? clean(json.error) : "unknown_error";
}

/** How long a rate-limited answer (HTTP 429, or `ratelimited`) asks us to wait: `Retry-After`, at least a second; null when it is not one. */
export function slackRateLimitWait(answer: Answered, now: number): number | null {
  if (answer.status !== 429 && slackErrorCode(answer.json) !== "ratelimited") return null;
  return Math.max(parseRetryAfter(answer.headers.get("retry-after"), now) ?? 0, MIN_SLACK_RATE_LIMIT_WAIT_MS);
}

const isWrite = (op: SlackOp) => op === "post" || op === "thread" || op === "update";

/**
 * Slack's rules for one answer (rate limits first, then `ok:false` codes, then the status):
 *
 * - HTTP 429 or `ratelimited`: retry after `Retry-After` (at least a second), rate-limited, so it never
 *   counts toward parking.
 * - `ok: true` with a 2xx: done.
 * - `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout`, HTTP 408/5xx, or a 200 that
 *   is not Slack's JSON: retry; on a write the message may have landed, so the outcome is unknown.
 * - another 3xx/4xx status: the URL is not Slack's Web API: failed, check SLACK_API_BASE.
 * - `invalid_auth`, `token_revoked`, … : failed, check SLACK_BOT_TOKEN.
 * - `missing_scope`: failed, naming the scope Slack says is `needed`.
 * - `not_in_channel`, `channel_not_found`, `is_archived`: failed, naming the channel, SLACK_CHANNEL and the link.
 * - `message_not_found` on delete: the message is gone, which is what the delete wanted: done.
 * - any other code (`cant_delete_message`, `msg_too_long` that splitting cannot fix, …): failed with it.
 * @param channel the channel the call went to (named in messages: an id, not a secret)
 */
export function classifySlack(op: SlackOp, answer: Answered, channel: string, now: number): Done | Retry | Failed {
  const wait = slackRateLimitWait(answer, now);
  if (wait !== null) return retry(`slack ${op}: ratelimited (HTTP ${answer.status})`, { retryAfterMs: wait, rateLimited: true });
  const code = slackErrorCode(answer.json);
  const verdict = classifyStatus(answer.status);
  if (code === null && verdict === "done") return done();
  if (verdict === "retry" || (code !== null && TRANSIENT.has(code)) || (verdict === "done" && code === "unexpected_answer")) {
    const what = code === null || code === "unexpected_answer" ? `HTTP ${answer.status}` : code;
    return retry(`slack ${op}: ${what}`, isWrite(op) ? { unknownOutcome: true } : {});
  }
  if (verdict !== "done") return failed(`slack ${op}: HTTP ${answer.status} \u2014 check SLACK_API_BASE (redirects are not followed)`);
  const error = code ?? "unknown_error";
  if (op === "delete" && error === "message_not_found") return done();
  return failed(`slack ${op}: ${error}${hintFor(error, answer.json, channel)}`);
}

/** A request that got no answer: retry; a write may have landed, so its outcome is unknown. */
export function lostSlack(op: SlackOp, lost: Lost, timeoutMs: number): Retry {
  return retry(`slack ${op} ${lost.why} after ${timeoutMs} ms or less`, isWrite(op) ? { unknownOutcome: true } : {});
}

function hintFor(code: string, json: unknown, channel: string): string {
  const where = `channel ${clean(channel)}`;
  if (BAD_TOKEN.has(code)) return " \u2014 check SLACK_BOT_TOKEN (the bot token, xoxb-\u2026, of an installed app)";
  if (code === "missing_scope") {
    const needed = isRecord(json) && typeof json.needed === "string" ? ` (needs ${clean(json.needed)})` : "";
    return ` \u2014 add the scope to the app of SLACK_BOT_TOKEN and reinstall it${needed}`;
  }
  if (code === "not_in_channel") return ` \u2014 invite the bot to ${where} (/invite @your-app), or check SLACK_CHANNEL and the session's link`;
  if (code === "channel_not_found") return ` \u2014 ${where} does not exist for this token: check SLACK_CHANNEL and the session's link`;
  if (code === "is_archived") return ` \u2014 ${where} is archived: unarchive it, or change SLACK_CHANNEL or the session's link`;
  if (code === "cant_delete_message") return ` \u2014 the bot may delete only its own messages in ${where}`;
  return "";
}

/** Slack's codes are shown to operators: no control characters, bounded length. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > 100 ? `${flat.slice(0, 100)}\u2026` : flat;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
