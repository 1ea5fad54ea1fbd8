/**
 * @module
 * Slack destination: each session writes into one thread of a channel. A link is a channel id (the
 * session's first note starts a thread with a short header message) or `channel:thread_ts` (an
 * existing thread); a session without a link writes to SLACK_CHANNEL. Notes are `chat.postMessage`
 * replies, redacted with `chat.delete` (the bot may delete only its own messages; `message_not_found`
 * counts as done). Part id = `channel:ts` (`channel:ts1,ts2` when a note had to be split).
 *
 * Slack has no idempotency key, so every message ends with a visible marker of its key (slackFormat.ts).
 * A post whose outcome is unknown returns `retry` with `unknownOutcome`; the core then calls `find`, which
 * reads the thread (`conversations.replies`) for the marker and re-posts only when it is absent.
 * Posts are paced at one per second per channel, shared by every session of the isolate
 * (`IntervalPacer` in rateLimit.ts says why the pace lives there); a call the pace holds back is `held`.
 */
import type { SlackSettings } from "../config";
import { callHttp, type Exchange } from "../outbound/http";
import { done, failed, retry, type Done, type Failed, type Held, type Result, type Retry } from "../result";
import { paceKey, sharedIntervalPacer, type IntervalPacer } from "./rateLimit";
import { classifySlack, lostSlack, slackErrorCode, slackRateLimitWait, type SlackOp } from "./slackErrors";
import { formatContextMessage, formatSlackNote, formatThreadHeader, SLACK_MAX_TEXT_CHARS, SLACK_MIN_TEXT_CHARS } from "./slackFormat";
import { findNote, formatPartId, parseLink, parsePartId, readMessages, type SlackLink } from "./slackMessages";
import type { ContextMessage, Destination, DestinationDeps, FindResult, PostResult, RedactResult, SessionRef, ThreadResult } from "./types";

/** Slack's special limit for `chat.postMessage`: about one message per second per channel. */
export const SLACK_POST_INTERVAL_MS = 1_000;
/** A thread holds the header and the session's live notes (O(K)); one page of replies reads them all. */
const REPLIES_LIMIT = "1000";
/** A header lost with its answer was the channel's newest message moments ago. */
const HISTORY_LIMIT = "100";

type Method = "chat.postMessage" | "chat.update" | "chat.delete" | "conversations.replies" | "conversations.history";
type Outcome = Done | Retry | Failed | Held;

/** Options for tests: a private pacer instead of the isolate's shared one. */
export interface SlackDestinationOptions {
  pacer?: IntervalPacer;
}

/**
 * Creates the Slack destination.
 * @param settings the `slack` destination of the config (`src/config/destination.ts`)
 * @param deps `fetch` (the only way out), `now`, and `timeoutMs` per request; a timeout is an unknown outcome.
 * @param options.pacer defaults to the isolate-wide {@link sharedIntervalPacer}
 * @example createSlackDestination(readSlackSettings(vars), { fetch, now: Date.now, timeoutMs: 10_000 })
 */
export function createSlackDestination(settings: SlackSettings, deps: DestinationDeps, options: SlackDestinationOptions = {}): Destination {
  const pacer = options.pacer ?? sharedIntervalPacer;
  const workspace = paceKey(settings.apiBase, settings.botToken);

  /**
   * One Web API call, unless the pace holds it back (then nothing is sent). `slot`: a post that takes the
   * channel's next one-second slot; the later parts of a split note follow it at once (a short burst).
   */
  async function call(method: Method, args: Record<string, string | boolean>, pace: "slot" | "free" = "slot"): Promise<Exchange | Held> {
    const channel = String(args.channel);
    const key = method === "chat.postMessage" ? `${workspace}:post:${channel}` : `${workspace}:${method}`;
    if (pace === "slot") {
      const decision = pacer.acquire(key, deps.now(), method === "chat.postMessage" ? SLACK_POST_INTERVAL_MS : 0);
      if (decision.kind === "wait") return { kind: "held", until: decision.untilMs, reason: "slack rate pacer" };
    }
    const read = method.startsWith("conversations.");
    const query = read ? `?${new URLSearchParams(args as Record<string, string>).toString()}` : "";
    const headers: Record<string, string> = {
      authorization: `Bearer ${settings.botToken}`,
      ...(read ? {} : { "content-type": "application/json; charset=utf-8" }),
    };
    const request = { url: `${settings.apiBase}/${method}${query}`, method: read ? ("GET" as const) : ("POST" as const), headers, ...(read ? {} : { body: JSON.stringify(args) }) };
    const answer = await callHttp(deps.fetch, request, deps.timeoutMs);
    const wait = answer.kind === "answered" ? slackRateLimitWait(answer, deps.now()) : null;
    if (wait !== null) pacer.block(key, deps.now() + wait);
    return answer;
  }

  function outcomeOf(op: SlackOp, outcome: Exchange | Held, channel: string): Outcome {
    if (outcome.kind === "held") return outcome;
    if (outcome.kind === "lost") return lostSlack(op, outcome, deps.timeoutMs);
    return classifySlack(op, outcome, channel, deps.now());
  }

  function target(session: SessionRef): SlackLink | null {
    if (session.link) return parseLink(session.link);
    return settings.channel === null ? null : { channel: settings.channel, threadTs: null };
  }

  const noTarget = (): Failed => failed("slack: the session has no link and SLACK_CHANNEL is not set (link it to a channel, or set SLACK_CHANNEL)");

  /** Posts one message; its ts when Slack took it. */
  async function postMessage(op: SlackOp, to: SlackLink, text: string, pace: "slot" | "free"): Promise<Retry | Failed | Held | { kind: "posted"; ts: string } | { kind: "too-long" }> {
    const outcome = await call(
      "chat.postMessage",
      { channel: to.channel, text, ...(to.threadTs ? { thread_ts: to.threadTs } : {}), unfurl_links: false, unfurl_media: false },
      pace,
    );
    if (outcome.kind === "answered" && slackErrorCode(outcome.json) === "msg_too_long") return { kind: "too-long" };
    const result = outcomeOf(op, outcome, to.channel);
    if (result.kind !== "done") return result;
    const ts = outcome.kind === "answered" ? (outcome.json as { ts?: unknown }).ts : undefined;
    // Written but unidentifiable: parking beats re-posting, which would duplicate the message.
    return typeof ts === "string" && ts !== "" ? { kind: "posted", ts } : failed(`slack ${op}: ok without a ts; the message cannot be redacted later`);
  }

  async function deleteAll(channel: string, ts: readonly string[]): Promise<RedactResult> {
    for (const one of ts) {
      const result = outcomeOf("delete", await call("chat.delete", { channel, ts: one }), channel);
      if (result.kind !== "done") return result;
    }
    return done();
  }

  /** The messages `find` searches: the thread's replies, or the channel's newest messages. */
  async function messagesOf(to: SlackLink): Promise<Result<{ messages: ReturnType<typeof readMessages> }>> {
    const outcome = to.threadTs
      ? await call("conversations.replies", { channel: to.channel, ts: to.threadTs, limit: REPLIES_LIMIT })
      : await call("conversations.history", { channel: to.channel, limit: HISTORY_LIMIT });
    if (outcome.kind === "answered" && slackErrorCode(outcome.json) === "thread_not_found") return done({ messages: [] });
    const result = outcomeOf("find", outcome, to.channel);
    if (result.kind !== "done") return result;
    return done({ messages: outcome.kind === "answered" ? readMessages(outcome.json) : [] });
  }

  /**
   * DELIVERY=replace: one message per session (in the channel, or in the thread the link names),
   * `chat.update`d on every edit; one that was deleted meanwhile (`message_not_found`) is posted anew.
   */
  async function replace(session: SessionRef, context: ContextMessage, partId: string | null): Promise<PostResult> {
    const to = target(session);
    if (!to) return noTarget();
    const text = formatContextMessage(session, context);
    const current = partId === null ? null : parsePartId(partId);
    if (current) {
      const outcome = await call("chat.update", { channel: current.channel, ts: current.ts[0]!, text });
      if (!(outcome.kind === "answered" && slackErrorCode(outcome.json) === "message_not_found")) {
        // A lost edit is simply made again (the core reconciles only a first write, which has no part id yet).
        const result = outcomeOf("update", outcome, current.channel);
        return result.kind === "done" ? done({ partId: formatPartId(current.channel, [current.ts[0]!]) }) : result;
      }
    }
    const posted = await postMessage("post", to, text, "slot");
    if (posted.kind === "posted") return done({ partId: formatPartId(to.channel, [posted.ts]) });
    return posted.kind === "too-long" ? failed("slack post: msg_too_long for the context message") : posted;
  }

  return {
    name: "slack",
    needsLink: settings.channel === null,
    ...(settings.delivery === "replace" && { replace }),

    async post(session, note): Promise<PostResult> {
      const to = target(session);
      if (!to) return noTarget();
      for (let limit = SLACK_MAX_TEXT_CHARS; ; limit = Math.floor(limit / 2)) {
        const posted: string[] = [];
        let tooLong = false;
        for (const [i, text] of formatSlackNote(note, limit).entries()) {
          // One slot per note: Slack took none of a rejected try, and the later parts follow at once.
          const result = await postMessage("post", to, text, i === 0 && limit === SLACK_MAX_TEXT_CHARS ? "slot" : "free");
          if (result.kind === "posted") {
            posted.push(result.ts);
            continue;
          }
          if (result.kind === "too-long" && limit / 2 >= SLACK_MIN_TEXT_CHARS) {
            tooLong = true;
            break;
          }
          const outcome = result.kind === "too-long" ? failed(`slack post: msg_too_long even in parts of ${limit} characters`) : result;
          if (posted.length === 0 || outcome.kind === "held") return outcome;
          // Some parts landed: a retry reconciles (find removes them, then the note goes again whole).
          if (outcome.kind === "retry") return retry(outcome.error, { ...outcome, unknownOutcome: true });
          await deleteAll(to.channel, posted);
          return outcome;
        }
        if (!tooLong) return done({ partId: formatPartId(to.channel, posted) });
        const removed = await deleteAll(to.channel, posted);
        if (removed.kind !== "done") return retry(`slack post: msg_too_long, and removing its first parts: ${removed.kind}`, { unknownOutcome: true });
      }
    },

    async redact(_session, part) {
      const parsed = parsePartId(part.partId);
      if (!parsed) return failed(`slack redact: part id ${part.partId.slice(0, 80)} is not channel:ts`);
      return deleteAll(parsed.channel, parsed.ts);
    },

    async find(session, note): Promise<FindResult> {
      const to = target(session);
      if (!to) return done({ partId: null });
      const read = await messagesOf(to);
      if (read.kind !== "done") return read;
      const found = findNote(read.messages, note.key);
      if (found.kind === "complete") return done({ partId: formatPartId(to.channel, found.ts) });
      if (found.kind === "absent") return done({ partId: null });
      const removed = await deleteAll(to.channel, found.ts);
      return removed.kind === "done" ? done({ partId: null }) : removed;
    },

    async openThread(session, key, mayExist): Promise<ThreadResult> {
      const to = target(session);
      if (!to) return noTarget();
      if (to.threadTs) return done({ link: `${to.channel}:${to.threadTs}` });
      if (mayExist) {
        const read = await messagesOf(to);
        if (read.kind !== "done") return read;
        const found = findNote(read.messages, key);
        if (found.kind === "complete") return done({ link: `${to.channel}:${found.ts[0]!}` });
      }
      const header = await postMessage("thread", to, formatThreadHeader(session, key, deps.now()), "slot");
      if (header.kind === "posted") return done({ link: `${to.channel}:${header.ts}` });
      return header.kind === "too-long" ? failed("slack thread: msg_too_long for the thread header") : header;
    },
  };
}

