/**
 * @module
 * An in-process Slack Web API emulator that answers the calls Context Relay makes as Slack does
 * (structured like intercomEmulator.ts):
 *
 * - every answer is HTTP 200 with `{"ok": true, …}` or `{"ok": false, "error": "<code>"}`, except a rate
 *   limit: HTTP 429 with `Retry-After` (seconds) and `{"ok": false, "error": "ratelimited"}`;
 * - a wrong token is `invalid_auth`, none is `not_authed`;
 * - `chat.postMessage`: `channel_not_found`, `not_in_channel`, `is_archived`, `no_text`, `msg_too_long`
 *   (over `maxTextChars`, 40,000 by default); answers `{ok, channel, ts, message}`; `thread_ts` makes a reply;
 * - `chat.update`: `message_not_found`, `cant_update_message` (not the bot's), `msg_too_long`;
 * - `chat.delete`: `message_not_found`, `cant_delete_message` (the bot may delete only its own messages);
 * - `conversations.replies` (the parent, then its replies, oldest first; `thread_not_found`) and
 *   `conversations.history` (top-level messages, newest first).
 *
 * `ts` ids are `<seconds>.<6 digits>`, strictly increasing. Faults (`inject`) answer the next N calls of a
 * method: a 429, an `ok:false` code, a 5xx, a call that lands but whose answer never arrives, a hang, a
 * network error. Use `emulator.fetch` as `DestinationDeps.fetch`, or `useSlackEmulator()` in workerd.
 */
import { afterEach, beforeEach, vi } from "vitest";

export const SLACK_TOKEN = "xoxb-test-slack-token";
export const BOT_ID = "B0RELAY";
export const BOT_USER = "U0RELAY";

export type SlackFault =
  | { kind: "rate_limited"; retryAfterSeconds?: number }
  | { kind: "error"; code: string; needed?: string }
  | { kind: "server_error"; status?: 500 | 502 | 503 }
  /** The call is applied, then no answer arrives: the caller can only time out. */
  | { kind: "lose_response" }
  /** Nothing is applied and no answer arrives. */
  | { kind: "hang" }
  /** Nothing is applied; fetch rejects as on a dropped connection. */
  | { kind: "network_error" };

export interface SlackMessage {
  ts: string;
  text: string;
  user: string;
  bot_id?: string;
  thread_ts?: string;
  edited?: { user: string; ts: string };
}

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** The HTTP status answered, or what happened instead. */
  outcome: number | "lost" | "hung" | "network_error";
  /** `ok:false` code, if any. */
  error: string | null;
}

export interface SlackEmulatorOptions {
  token?: string;
  /** Longest `text` accepted; longer is `msg_too_long`. */
  maxTextChars?: number;
  /** Posts per channel per second before a 429 (Slack: about one; bursts tolerated). Default: no limit. */
  postsPerSecond?: number;
  now?: () => number;
}

interface Channel {
  member: boolean;
  archived: boolean;
  messages: SlackMessage[];
}

let nextChannel = 100;

export class SlackEmulator {
  readonly calls: SlackCall[] = [];
  /** Every message `chat.postMessage` stored, answered or not, in order (deletes do not remove them here). */
  readonly posted: { channel: string; message: SlackMessage }[] = [];
  readonly #token: string;
  readonly #maxText: number;
  readonly #postsPerSecond: number;
  readonly #now: () => number;
  readonly #channels = new Map<string, Channel>();
  readonly #faults: { fault: SlackFault; left: number; skip: number; method?: string }[] = [];
  readonly #posts = new Map<string, { second: number; n: number }>();
  #lastTs = 0;

  constructor(options: SlackEmulatorOptions = {}) {
    this.#token = options.token ?? SLACK_TOKEN;
    this.#maxText = options.maxTextChars ?? 40_000;
    this.#postsPerSecond = options.postsPerSecond ?? Infinity;
    this.#now = options.now ?? Date.now;
  }

  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    return this.#handle(request, init?.signal ?? request.signal);
  };

  /** A channel the bot is in (unless `member: false`); returns its id. */
  createChannel(options: { id?: string; member?: boolean; archived?: boolean } = {}): string {
    // Unique across emulators: the pace per channel outlives a test (it is the isolate's).
    const id = options.id ?? `C0EMU${nextChannel++}`;
    this.#channels.set(id, { member: options.member ?? true, archived: options.archived ?? false, messages: [] });
    return id;
  }

  /** A message someone else writes (a person, unless `bot_id` is given); returns its ts. */
  addMessage(channel: string, message: Partial<SlackMessage> & { text: string }): string {
    const ts = this.#ts();
    this.#channel(channel).messages.push({ user: "U0PERSON", ...message, ts });
    return ts;
  }

  /** Top-level messages of a channel, oldest first. */
  messages(channel: string): SlackMessage[] {
    return this.#channel(channel).messages.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  }

  /** The replies in a thread, oldest first (the parent not included). */
  replies(channel: string, threadTs: string): SlackMessage[] {
    return this.#channel(channel).messages.filter((m) => m.thread_ts === threadTs && m.ts !== threadTs);
  }

  /** The next `times` calls of `method` (every method when absent), after `skip` of them, are answered with `fault`. */
  inject(fault: SlackFault, scope: { method?: string; times?: number; skip?: number } = {}): void {
    this.#faults.push({ fault, left: scope.times ?? 1, skip: scope.skip ?? 0, method: scope.method });
  }

  async #handle(request: Request, signal: AbortSignal | null | undefined): Promise<Response> {
    const url = new URL(request.url);
    const method = url.pathname.split("/").pop() ?? "";
    const args = await readArgs(request, url);
    const call: SlackCall = { method, args, outcome: 0, error: null };
    this.calls.push(call);

    const fault = this.#takeFault(method);
    if (fault?.kind === "network_error") {
      call.outcome = "network_error";
      throw new TypeError("Network connection lost.");
    }
    if (fault?.kind === "hang") {
      call.outcome = "hung";
      return never(signal);
    }
    const auth = request.headers.get("authorization");
    if (!auth) return this.#answer(call, { ok: false, error: "not_authed" });
    if (auth !== `Bearer ${this.#token}`) return this.#answer(call, { ok: false, error: "invalid_auth" });
    if (fault?.kind === "server_error") {
      call.outcome = fault.status ?? 500;
      return new Response("<html>Slack is having trouble</html>", { status: call.outcome, headers: { "content-type": "text/html" } });
    }
    if (fault?.kind === "rate_limited") return this.#rateLimited(call, fault.retryAfterSeconds ?? 1);
    if (fault?.kind === "error") return this.#answer(call, { ok: false, error: fault.code, ...(fault.needed ? { needed: fault.needed, provided: "chat:write" } : {}) });
    if (method === "chat.postMessage" && !this.#spendPost(String(args.channel))) return this.#rateLimited(call, 1);
    const json = this.#route(method, args);
    if (fault?.kind === "lose_response") {
      call.outcome = "lost";
      return never(signal);
    }
    return this.#answer(call, json);
  }

  #route(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channelId = String(args.channel ?? "");
    const channel = this.#channels.get(channelId);
    if (!channel) return { ok: false, error: "channel_not_found" };
    const find = (ts: unknown) => channel.messages.find((m) => m.ts === String(ts));
    switch (method) {
      case "chat.postMessage": {
        if (!channel.member) return { ok: false, error: "not_in_channel" };
        if (channel.archived) return { ok: false, error: "is_archived" };
        const text = typeof args.text === "string" ? args.text : "";
        if (!text) return { ok: false, error: "no_text" };
        if (text.length > this.#maxText) return { ok: false, error: "msg_too_long" };
        const message: SlackMessage = { ts: this.#ts(), text, user: BOT_USER, bot_id: BOT_ID };
        if (typeof args.thread_ts === "string" && args.thread_ts) message.thread_ts = args.thread_ts;
        channel.messages.push(message);
        this.posted.push({ channel: channelId, message });
        return { ok: true, channel: channelId, ts: message.ts, message: structuredClone(message) };
      }
      case "chat.update": {
        const message = find(args.ts);
        if (!message) return { ok: false, error: "message_not_found" };
        if (message.bot_id !== BOT_ID) return { ok: false, error: "cant_update_message" };
        const text = typeof args.text === "string" ? args.text : "";
        if (text.length > this.#maxText) return { ok: false, error: "msg_too_long" };
        message.text = text;
        message.edited = { user: BOT_USER, ts: this.#ts() };
        return { ok: true, channel: channelId, ts: message.ts, text, message: structuredClone(message) };
      }
      case "chat.delete": {
        const message = find(args.ts);
        if (!message) return { ok: false, error: "message_not_found" };
        if (message.bot_id !== BOT_ID) return { ok: false, error: "cant_delete_message" };
        channel.messages.splice(channel.messages.indexOf(message), 1);
        return { ok: true, channel: channelId, ts: message.ts };
      }
      case "conversations.replies": {
        const parent = find(args.ts);
        if (!parent) return { ok: false, error: "thread_not_found" };
        const thread = [parent, ...channel.messages.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts)];
        return { ok: true, messages: structuredClone(thread.slice(0, limitOf(args))), has_more: thread.length > limitOf(args) };
      }
      case "conversations.history": {
        const top = channel.messages.filter((m) => !m.thread_ts || m.thread_ts === m.ts).reverse();
        return { ok: true, messages: structuredClone(top.slice(0, limitOf(args))), has_more: top.length > limitOf(args) };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  #rateLimited(call: SlackCall, seconds: number): Response {
    call.outcome = 429;
    call.error = "ratelimited";
    return new Response(JSON.stringify({ ok: false, error: "ratelimited" }), {
      status: 429,
      headers: { "content-type": "application/json; charset=utf-8", "retry-after": String(seconds) },
    });
  }

  #answer(call: SlackCall, json: Record<string, unknown>): Response {
    call.outcome = 200;
    call.error = json.ok === false ? String(json.error) : null;
    return new Response(JSON.stringify(json), { status: 200, headers: { "content-type": "application/json; charset=utf-8" } });
  }

  #spendPost(channel: string): boolean {
    const second = Math.floor(this.#now() / 1000);
    const seen = this.#posts.get(channel);
    const n = seen && seen.second === second ? seen.n + 1 : 1;
    this.#posts.set(channel, { second, n });
    return n <= this.#postsPerSecond;
  }

  #takeFault(method: string): SlackFault | undefined {
    const i = this.#faults.findIndex((f) => f.left > 0 && (f.method === undefined || f.method === method));
    if (i === -1) return undefined;
    const rule = this.#faults[i]!;
    if (rule.skip > 0) {
      rule.skip -= 1;
      return undefined;
    }
    rule.left -= 1;
    if (rule.left === 0) this.#faults.splice(i, 1);
    return rule.fault;
  }

  /** `<seconds>.<micro>`: Slack's ts, unique and increasing within the channel (here, everywhere). */
  #ts(): string {
    const micros = Math.max(this.#lastTs + 1, this.#now() * 1000);
    this.#lastTs = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
  }

  #channel(id: string): Channel {
    const c = this.#channels.get(id);
    if (!c) throw new Error(`emulator: no channel ${id}`);
    return c;
  }
}

async function readArgs(request: Request, url: URL): Promise<Record<string, unknown>> {
  if (request.method === "GET") return Object.fromEntries(url.searchParams);
  const text = await request.text();
  if ((request.headers.get("content-type") ?? "").includes("application/json")) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function limitOf(args: Record<string, unknown>): number {
  const n = Number(args.limit ?? 100);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1000) : 100;
}

/** An answer that never comes; it rejects when the caller aborts, as fetch does. */
function never(signal: AbortSignal | null | undefined): Promise<Response> {
  return new Promise((_resolve, reject) => {
    if (!signal) return;
    const abort = () => reject(signal.reason ?? new DOMException("The operation was aborted.", "AbortError"));
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  });
}

/** A fresh emulator behind `fetch` for each test of the calling file (it reaches code inside the actor). */
export function useSlackEmulator(options: SlackEmulatorOptions = {}, setup?: (emulator: SlackEmulator) => void): () => SlackEmulator {
  let emulator: SlackEmulator | undefined;
  beforeEach(() => {
    emulator = new SlackEmulator(options);
    setup?.(emulator);
    vi.spyOn(globalThis, "fetch").mockImplementation(emulator.fetch);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return () => emulator!;
}
