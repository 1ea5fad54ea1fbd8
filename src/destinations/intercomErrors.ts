/**
 * @module
 * Maps Intercom's answers onto done / retry / failed, per operation. Pure: a table test pins each case.
 *
 * Intercom errors are `{"type":"error.list","request_id","errors":[{"code","message"}]}`. The texts built
 * here end up in the session state endpoint when a step parks, so they say what to fix, name the setting,
 * and never carry the token (Intercom does not echo it; we never add it).
 */
import { classifyStatus } from "../outbound/status";
import { done, failed, retry, type Done } from "../result";
import type { Failed, Retry } from "./types";

export type IntercomOp = "post" | "redact" | "find";

export interface IntercomError {
  code: string;
  message: string;
  requestId: string | null;
}

/** Every error code in an `error.list` body, first one first; an empty list when the body is not one. */
export function readErrorList(body: unknown): IntercomError[] {
  if (!isRecord(body) || !Array.isArray(body.errors)) return [];
  const requestId = typeof body.request_id === "string" ? body.request_id : null;
  return body.errors.filter(isRecord).map((e) => ({
    code: typeof e.code === "string" ? e.code : "unknown",
    message: typeof e.message === "string" ? e.message : "",
    requestId,
  }));
}

/** Codes that mean "this part is already redacted / has nothing left to redact": done for a part we posted. */
const ALREADY_REDACTED = new Set(["conversation_part_not_redactable"]);

/** `intercom 401 unauthorized: Access Token Invalid — <hint> (request_id …)`, at most ~400 characters. */
export function describeError(status: number, body: unknown, hint?: string): string {
  const [first] = readErrorList(body);
  const what = first ? `${first.code}${first.message ? `: ${clean(first.message)}` : ""}` : statusText(status);
  const req = first?.requestId ? ` (request_id ${clean(first.requestId)})` : "";
  return `intercom ${status} ${what}${hint ? ` \u2014 ${hint}` : ""}${req}`;
}

/**
 * Intercom's rules for a non-2xx answer, on top of the shared ones (`classifyStatus`).
 *
 * - 401: the token is wrong, revoked, or from another region's workspace: failed.
 * - 403: plan or permission (`api_plan_restricted`, `action_forbidden`): failed.
 * - 404 on post: the conversation does not exist: failed (retrying cannot create it).
 *   404 on redact: the part or conversation is gone, which is what redaction wanted: done.
 *   404 on find: the note cannot be there: the caller treats it as absent (not handled here).
 * - `conversation_part_not_redactable` on redact: the part was already redacted: done.
 * - 409: a conflicting write that Intercom rejected, so transient but not an unknown outcome.
 * - 429: rate limited: retry after `retryAfterMs` (the caller reads X-RateLimit-Reset).
 * - 408, 5xx: transient: retry. On a post they may come after the note was written (a gateway
 *   timing out in front of a write that committed), so the outcome is unknown and the core
 *   reconciles with `find` before posting again.
 * - 3xx: redirects are not followed: failed, saying so.
 * - any other 4xx: the request is wrong and will stay wrong: failed, with Intercom's code and message.
 * @param retryAfterMs the wait the answer asked for, if any: applied to every retry
 */
export function classifyError(op: IntercomOp, status: number, body: unknown, link: string, retryAfterMs?: number): Done | Retry | Failed {
  const codes = readErrorList(body).map((e) => e.code);
  if (status === 401) {
    return failedWith(status, body, "check INTERCOM_ACCESS_TOKEN, and that INTERCOM_API_BASE is the region of its workspace");
  }
  if (status === 403) {
    return failedWith(status, body, "the access token's app lacks the plan or the permission (read and write conversations)");
  }
  if (op === "redact" && (status === 404 || codes.some((c) => ALREADY_REDACTED.has(c)))) return done();
  if (op === "post" && status === 404) {
    const adminMissing = codes.some((c) => c.includes("admin"));
    return failedWith(status, body, adminMissing ? "check INTERCOM_ADMIN_ID" : `conversation ${clean(link)} not found: check the session's link`);
  }
  const verdict = classifyStatus(status);
  const wait = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (verdict === "rate-limited") return retry(describeError(status, body), { ...wait, rateLimited: true });
  if (status === 409) return retry(describeError(status, body), wait);
  if (verdict === "retry") return retry(describeError(status, body), { ...wait, ...(op === "post" ? { unknownOutcome: true } : {}) });
  const hint = verdict === "redirect" ? "redirects are not followed" : codes.some((c) => c.includes("admin")) ? "check INTERCOM_ADMIN_ID" : undefined;
  return failedWith(status, body, hint);
}

function failedWith(status: number, body: unknown, hint?: string): Failed {
  return failed(describeError(status, body, hint));
}

function statusText(status: number): string {
  const known: Record<number, string> = { 400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found", 429: "too many requests" };
  return known[status] ?? (status >= 500 ? "server error" : "error");
}

/** Intercom's own texts are shown to operators: no control characters, bounded length. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}\u2026` : flat;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
