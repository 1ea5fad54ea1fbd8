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
import type { IntercomSettings } from "../config";
import { callHttp, type Answered, type Exchange } from "../outbound/http";
import { classifyStatus, parseRetryAfter } from "../outbound/status";
import { held, retry, type Done, type Held } from "../result";
import { classifyError, type IntercomOp } from "./intercomErrors";
import { formatNoteHtml } from "./intercomFormat";
import { findMarkedPart, pickPostedPart } from "./intercomParts";
import { paceKey, rateLimitedUntil, sharedPacer, type TokenPacer } from "./rateLimit";
import type { Destination, DestinationDeps, Failed, FindResult, PostResult, Retry } from "./types";


/** Options for tests: a private pacer instead of the isolate's shared one. */
export interface IntercomDestinationOptions {
  pacer?: TokenPacer;
}

/**
 * Creates the Intercom destination.
 * @param settings the `intercom` destination of the config (`src/config/destination.ts`)
 * @param deps `fetch` (the only way out), `now`, and `timeoutMs` per request; a timeout is an unknown outcome.
 * @param options.pacer defaults to the isolate-wide {@link sharedPacer}
 * @example createIntercomDestination(readIntercomSettings(vars), { fetch, now: Date.now, timeoutMs: 10_000 })
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
