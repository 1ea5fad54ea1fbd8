/**
 * @module
 * What an HTTP answer means for an outbound call, before any API's own rules, and when it asks us
 * to come back (`Retry-After`). Pure; `test/core/outbound.test.ts` pins every rule. Destinations and
 * the LLM client layer their API's exceptions on top (Intercom's redact 404, a webhook's 410).
 */
import { done, failed, retry, type Done, type Failed, type Retry } from "../result";

export type StatusClass = "done" | "retry" | "rate-limited" | "redirect" | "gone" | "rejected";

/** One rule per status family; the first that matches wins. */
export function classifyStatus(status: number): StatusClass {
  // 2xx: the request did what it asked.
  if (status >= 200 && status <= 299) return "done";
  // 429: the other side is pacing us; the request itself is fine and waiting as told fixes it.
  if (status === 429) return "rate-limited";
  // 408 and 5xx: the failure is the server's or the clock's, so the same request can succeed later.
  if (status === 408 || status >= 500) return "retry";
  // 3xx: never followed, since a redirect could carry a signed body or a token to another host;
  // a destination that moved must be reconfigured, and retrying would only repeat the redirect.
  if (status >= 300 && status <= 399) return "redirect";
  // 410: removed on purpose and for good; the receiver asks us to stop.
  if (status === 410) return "gone";
  // Any other 4xx (or a status outside the families): the request is wrong and will stay wrong.
  return "rejected";
}

/**
 * `Retry-After` as a wait in ms from `now`: delay-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`). Undefined when absent, unreadable or already past, so the
 * step's own backoff decides.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : undefined;
}

/**
 * The shared reading of an answer as a result, for a destination with no rules of its own for it.
 * @param error the operator-facing text, e.g. `webhook answered 503` (no secret, no action text)
 * @example answerResult(answer, `webhook answered ${answer.status}`, Date.now())
 */
export function answerResult(answer: { status: number; headers: Headers }, error: string, now: number): Done | Retry | Failed {
  const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"), now);
  const wait = retryAfterMs === undefined ? {} : { retryAfterMs };
  switch (classifyStatus(answer.status)) {
    case "done":
      return done();
    case "rate-limited":
      return retry(error, { ...wait, rateLimited: true });
    case "retry":
      return retry(error, wait);
    case "redirect":
      return failed(`${error} (redirects are not followed)`);
    case "gone":
    case "rejected":
      return failed(error);
  }
}
