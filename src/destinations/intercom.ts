/**
 * @module
 * Intercom destination: raw and summary notes are internal admin notes on the session's conversation
 * (`POST /conversations/{id}/reply`), removed with `POST /conversations/redact`.
 *
 * Intercom has no idempotency key, so every note body ends with a visible marker of its key
 * (`ctx:<key>`, see intercomFormat.ts). A post whose outcome is unknown (timeout, dropped connection, a 5xx
 * that may follow a committed write) returns `retry` with `unknownOutcome`; the core then calls `find`,
 * which reads the conversation and looks for the marker, and re-posts only when it is absent.
 * Rate limits are paced per workspace token (rateLimit.ts) and every 429 waits for `X-RateLimit-Reset`.
 */
import type { IntercomSettings } from "../config";
import { classifyError, describeError, type IntercomOp } from "./intercomErrors";
import { formatNoteHtml } from "./intercomFormat";
import { findMarkedPart, pickPostedPart } from "./intercomParts";
import { paceKey, rateLimitedUntil, sharedPacer, type TokenPacer } from "./rateLimit";
import type { Destination, DestinationDeps, Failed, FindResult, PostResult, Retry } from "./types";

type CallOutcome =
  | { kind: "answered"; status: number; body: unknown }
  | { kind: "lost"; why: "timed out" | "connection failed" }
  | Retry;

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

  async function call(method: "GET" | "POST", path: string, payload?: unknown): Promise<CallOutcome> {
    const pace = pacer.acquire(key, deps.now());
    if (pace.kind === "wait") {
      const of = pace.limit === null ? "" : ` of ${pace.limit}`;
      return {
        kind: "retry",
        error: `intercom rate limit: pausing until X-RateLimit-Reset (${pace.remaining}${of} requests left in the window)`,
        retryAfterMs: Math.max(0, pace.untilMs - deps.now()),
        rateLimited: true,
      };
    }
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), deps.timeoutMs);
    });
    // Reading the body is inside the same deadline: a response whose body never ends is a timeout too.
    const exchange = (async () => {
      const res = await deps.fetch(`${settings.apiBase}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${settings.accessToken}`,
          accept: "application/json",
          "intercom-version": settings.version,
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
        },
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: controller.signal,
      });
      return { res, text: await res.text() };
    })();
    exchange.catch(() => undefined);
    try {
      const won = await Promise.race([exchange, timedOut]);
      if (won === "timeout") {
        // Drop the late answer: it must not act after the step has been told "unknown".
        controller.abort();
        return { kind: "lost", why: "timed out" };
      }
      pacer.observe(key, won.res.headers);
      if (won.res.status === 429) {
        const until = rateLimitedUntil(won.res.headers, deps.now());
        pacer.block(key, until);
        return { kind: "retry", error: describeError(429, parseJson(won.text)), retryAfterMs: until - deps.now(), rateLimited: true };
      }
      return { kind: "answered", status: won.res.status, body: parseJson(won.text) };
    } catch {
      return { kind: "lost", why: "connection failed" };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Everything but a 2xx: paced or rate limited, lost on the way, or an error status. */
  function otherwise(op: IntercomOp, outcome: CallOutcome, link: string): { kind: "done" } | Retry | Failed {
    if (outcome.kind === "retry") return outcome;
    if (outcome.kind === "lost") {
      const error = `intercom ${op} ${outcome.why} after ${deps.timeoutMs} ms or less`;
      return { kind: "retry", error, ...(op === "post" ? { unknownOutcome: true } : {}) } satisfies Retry;
    }
    return classifyError(op, outcome.status, outcome.body, link);
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
      const partId = pickPostedPart(outcome.body, settings.adminId, note.key);
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
      return { kind: "done", partId: findMarkedPart(outcome.body, settings.adminId, note.key) };
    },
  };
}

function isSuccess(outcome: CallOutcome): outcome is { kind: "answered"; status: number; body: unknown } {
  return outcome.kind === "answered" && outcome.status >= 200 && outcome.status <= 299;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
