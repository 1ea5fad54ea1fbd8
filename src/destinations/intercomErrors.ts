/**
 * @module
 * Maps Intercom's answers onto done / retry / failed, per operation. Pure: a table test pins each case.
 *
 * Intercom errors are `{"type":"error.list","request_id","errors":[{"code","message"}]}`. The texts built
 * here end up in the session state endpoint when a step parks, so they say what to fix, name the setting,
 * and never carry the token (Intercom does not echo it; we never add it).
 */
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
 * Non-2xx answers other than 429 (which the destination handles with the pacer).
 *
 * - 401: the token is wrong, revoked, or from another region's workspace: failed.
 * - 403: plan or permission (`api_plan_restricted`, `action_forbidden`): failed.
 * - 404 on post: the conversation does not exist: failed (retrying cannot create it).
 *   404 on redact: the part or conversation is gone, which is what redaction wanted: done.
 *   404 on find: the note cannot be there: the caller treats it as absent (not handled here).
 * - `conversation_part_not_redactable` on redact: the part was already redacted: done.
 * - 408, 409, 5xx: transient: retry. On a post, a 408 or 5xx may come after the note was written
 *   (a gateway timing out in front of a write that committed), so the outcome is unknown and the core
 *   reconciles with `find` before posting again. A 409 is a rejected write, so not unknown.
 * - any other 4xx: the request is wrong and will stay wrong: failed, with Intercom's code and message.
 */
export function classifyError(op: IntercomOp, status: number, body: unknown, link: string): { kind: "done" } | Retry | Failed {
  const codes = readErrorList(body).map((e) => e.code);
  if (status === 401) {
    return failed(status, body, "check INTERCOM_ACCESS_TOKEN, and that INTERCOM_API_BASE is the region of its workspace");
  }
  if (status === 403) {
    return failed(status, body, "the access token's app lacks the plan or the permission (read and write conversations)");
  }
  if (op === "redact" && (status === 404 || codes.some((c) => ALREADY_REDACTED.has(c)))) return { kind: "done" };
  if (op === "post" && status === 404) {
    const adminMissing = codes.some((c) => c.includes("admin"));
    return failed(status, body, adminMissing ? "check INTERCOM_ADMIN_ID" : `conversation ${clean(link)} not found: check the session's link`);
  }
  if (status === 408 || status === 409 || status >= 500) {
    const unknownOutcome = op === "post" && status !== 409;
    return { kind: "retry", error: describeError(status, body), ...(unknownOutcome ? { unknownOutcome } : {}) };
  }
  const adminHint = codes.some((c) => c.includes("admin")) ? "check INTERCOM_ADMIN_ID" : undefined;
  return failed(status, body, adminHint);
}

function failed(status: number, body: unknown, hint?: string): Failed {
  return { kind: "failed", error: describeError(status, body, hint) };
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
