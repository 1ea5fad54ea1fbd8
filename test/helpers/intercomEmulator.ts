/**
 * @module
 * An in-process Intercom REST emulator that answers the three calls Context Relay makes the way
 * `intercom/Intercom-OpenAPI` `descriptions/2.14/api.intercom.io.yaml` documents them:
 *
 * - `GET /conversations/{id}`: the Conversation with `conversation_parts` (the 500 most recent), 404 `not_found`.
 * - `POST /conversations/{id}/reply`: appends a part and answers the whole Conversation; 404 `not_found`
 *   for an unknown conversation, 404 `admin_not_found` for an unknown admin (as the spec's admin endpoints do).
 * - `POST /conversations/redact`: sets `redacted: true` and blanks the body to the spec example's
 *   "This message was deleted"; 404 `conversation_part_or_message_not_found`; a part without a body or one
 *   already redacted gives `conversation_part_not_redactable` (the spec gives no status: 400 here).
 *
 * Errors are `error.list` bodies with `request_id`. A wrong or missing Bearer token is 401 `unauthorized`
 * ("Access Token Invalid") and, as Intercom's docs say, carries no rate-limit headers; authenticated answers
 * carry `X-RateLimit-Limit/Remaining/Reset` from a fixed 10-second window, and 429 `rate_limit_exceeded`
 * once it is used up.
 *
 * Faults (`inject`) apply to the next N matching calls: 429 with a reset time, 401, 5xx, a request that
 * lands but whose answer never arrives (it rejects only when the caller aborts), a hang, a network error.
 *
 * Use `emulator.fetch` as `DestinationDeps.fetch`, or `vi.spyOn(globalThis, "fetch").mockImplementation(emulator.fetch)`.
 */
import { afterEach, beforeEach, vi } from "vitest";

export const EMULATOR_TOKEN = "test-intercom-token";
export const EMULATOR_ADMIN_ID = "991267696";

export type Fault =
  | { kind: "rate_limited"; resetInSeconds?: number }
  | { kind: "unauthorized" }
  | { kind: "server_error"; status?: 500 | 502 | 503 | 504 }
  /** The request is applied, then no answer arrives: the caller can only time out. */
  | { kind: "lose_response" }
  /** Nothing is applied and no answer arrives. */
  | { kind: "hang" }
  /** Nothing is applied; fetch rejects as on a dropped connection. */
  | { kind: "network_error" };

export interface FaultScope {
  /** How many matching calls the fault answers (default 1). */
  times?: number;
  method?: "GET" | "POST";
  /** Substring or pattern of the path, e.g. "/reply" or "/conversations/redact". */
  path?: string | RegExp;
}

export interface EmulatedPart {
  type: "conversation_part";
  id: string;
  part_type: string;
  body: string | null;
  created_at: number;
  updated_at: number;
  notified_at: number;
  assigned_to: null;
  author: { id: string; type: "admin" | "user" | "bot"; name: string; email: string };
  attachments: never[];
  external_id: string | null;
  redacted: boolean;
  metadata: Record<string, never>;
  email_message_metadata: null;
  app_package_code: string | null;
}

export interface EmulatedCall {
  method: string;
  path: string;
  /** The HTTP status answered, or what happened instead. */
  outcome: number | "lost" | "hung" | "network_error";
  version: string | null;
  body: unknown;
}

export interface EmulatorOptions {
  token?: string;
  admins?: string[];
  /** Requests per 10-second window (the docs' example: 1,000/min = 167 per 10 s). */
  limitPerWindow?: number;
  /** Clock in ms; share it with the destination's `now` to step past resets. */
  now?: () => number;
  /** `all_parts` (default) answers a reply with every part; `new_part` only with the new one, as the spec example does. */
  replyReturns?: "all_parts" | "new_part";
}

interface Conversation {
  id: string;
  createdAt: number;
  updatedAt: number;
  parts: EmulatedPart[];
}

const WINDOW_SECONDS = 10;
const MAX_PARTS_RETURNED = 500;
const DELETED_BODY = "<p><i>This message was deleted</i></p>";

export class IntercomEmulator {
  readonly calls: EmulatedCall[] = [];
  readonly #token: string;
  readonly #admins: Set<string>;
  readonly #limit: number;
  readonly #now: () => number;
  readonly #replyReturns: "all_parts" | "new_part";
  readonly #conversations = new Map<string, Conversation>();
  #concurrent: Partial<EmulatedPart>[] = [];
  readonly #faults: { fault: Fault; left: number; scope: FaultScope }[] = [];
  #nextConversationId = 500;
  #nextPartId = 100;
  #window = { start: 0, used: 0 };

  constructor(options: EmulatorOptions = {}) {
    this.#token = options.token ?? EMULATOR_TOKEN;
    this.#admins = new Set(options.admins ?? [EMULATOR_ADMIN_ID]);
    this.#limit = options.limitPerWindow ?? 167;
    this.#now = options.now ?? Date.now;
    this.#replyReturns = options.replyReturns ?? "all_parts";
  }

  /** A `fetch`-compatible entry point (bound, so it can be passed around). */
  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    return this.#handle(request, init?.signal ?? request.signal);
  };

  /** Creates an open conversation with a contact's opening message; returns its id. */
  createConversation(id = String(this.#nextConversationId++)): string {
    const t = this.#seconds();
    this.#conversations.set(id, { id, createdAt: t, updatedAt: t, parts: [] });
    this.addPart(id, { part_type: "comment", body: "<p>Hi, I need help</p>", author: contact() });
    return id;
  }

  /** Appends a part as someone else would (a teammate's note, a user's reply); returns its id. */
  addPart(conversationId: string, part: Partial<EmulatedPart>): string {
    const c = this.#conversation(conversationId);
    const t = this.#seconds();
    const full: EmulatedPart = {
      type: "conversation_part",
      id: String(this.#nextPartId++),
      part_type: "comment",
      body: null,
      created_at: t,
      updated_at: t,
      notified_at: t,
      assigned_to: null,
      author: contact(),
      attachments: [],
      external_id: null,
      redacted: false,
      metadata: {},
      email_message_metadata: null,
      app_package_code: null,
      ...part,
    };
    c.parts.push(full);
    c.updatedAt = t;
    return full.id;
  }

  /** Every part of a conversation, oldest first (not limited to 500). */
  parts(conversationId: string): EmulatedPart[] {
    return [...this.#conversation(conversationId).parts];
  }

  /** Admin notes of a conversation, oldest first. */
  notes(conversationId: string): EmulatedPart[] {
    return this.parts(conversationId).filter((p) => p.part_type === "note");
  }

  /** The next `scope.times` calls matching `scope` are answered with `fault`. */
  inject(fault: Fault, scope: FaultScope = {}): void {
    this.#faults.push({ fault, left: scope.times ?? 1, scope });
  }

  /** Parts someone else writes while the next reply is processed: they land after it, in the same second. */
  appendOnNextReply(...parts: Partial<EmulatedPart>[]): void {
    this.#concurrent.push(...parts);
  }

  /** Uses up the current window so the next authenticated call gets a real 429. */
  exhaustWindow(): void {
    this.#rollWindow();
    this.#window.used = this.#limit;
  }

  async #handle(request: Request, signal: AbortSignal | null | undefined): Promise<Response> {
    const url = new URL(request.url);
    const text = request.method === "GET" ? "" : await request.text();
    const body = text ? safeJson(text) : undefined;
    const call: EmulatedCall = { method: request.method, path: url.pathname, outcome: 0, version: request.headers.get("intercom-version"), body };
    this.calls.push(call);

    const fault = this.#takeFault(request.method, url.pathname);
    if (fault?.kind === "network_error") {
      call.outcome = "network_error";
      throw new TypeError("Network connection lost.");
    }
    if (fault?.kind === "hang") {
      call.outcome = "hung";
      return never(signal);
    }
    if (fault?.kind === "unauthorized" || request.headers.get("authorization") !== `Bearer ${this.#token}`) {
      return this.#answer(call, 401, errorList("unauthorized", "Access Token Invalid"), false);
    }
    if (fault?.kind === "server_error") {
      const status = fault.status ?? 500;
      if (status === 502) {
        call.outcome = 502;
        return new Response("<html><body>502 Bad Gateway</body></html>", { status, headers: { "content-type": "text/html" } });
      }
      return this.#answer(call, status, errorList("server_error", "Server Error"), false);
    }
    if (fault?.kind === "rate_limited") {
      const reset = this.#seconds() + (fault.resetInSeconds ?? WINDOW_SECONDS);
      return this.#answer(call, 429, errorList("rate_limit_exceeded", `Exceeded rate limit of ${this.#limit} in 10_seconds`), true, { remaining: 0, reset });
    }
    if (!this.#spend()) {
      return this.#answer(call, 429, errorList("rate_limit_exceeded", `Exceeded rate limit of ${this.#limit} in 10_seconds`), true);
    }
    const [status, json] = this.#route(request.method, url.pathname, body);
    if (fault?.kind === "lose_response") {
      call.outcome = "lost";
      return never(signal);
    }
    return this.#answer(call, status, json, true);
  }

  #route(method: string, path: string, body: unknown): [number, unknown] {
    const reply = /^\/conversations\/([^/]+)\/reply$/.exec(path);
    const one = /^\/conversations\/([^/]+)$/.exec(path);
    if (method === "POST" && path === "/conversations/redact") return this.#redact(body);
    if (method === "POST" && reply) return this.#reply(decodeURIComponent(reply[1]!), body);
    if (method === "GET" && one && one[1] !== "search") return this.#retrieve(decodeURIComponent(one[1]!));
    return [404, errorList("not_found", "Resource Not Found")];
  }

  #retrieve(id: string): [number, unknown] {
    const c = this.#conversations.get(id);
    return c ? [200, this.#render(c, c.parts)] : [404, errorList("not_found", "Resource Not Found")];
  }

  #reply(id: string, body: unknown): [number, unknown] {
    const c = this.#conversations.get(id);
    if (!c) return [404, errorList("not_found", "Resource Not Found")];
    const b = isRecord(body) ? body : {};
    if (!["comment", "note", "quick_reply"].includes(String(b.message_type))) {
      return [400, errorList("parameter_invalid", "message_type must be comment, note or quick_reply", "message_type")];
    }
    if (b.type !== "admin") return [400, errorList("parameter_invalid", "type must be admin or user", "type")];
    if (b.admin_id === undefined) return [400, errorList("parameter_not_found", "admin_id is a required parameter", "admin_id")];
    const adminId = String(b.admin_id);
    if (!this.#admins.has(adminId)) return [404, errorList("admin_not_found", "Admin not found")];
    if (typeof b.body !== "string" || b.body === "") return [400, errorList("parameter_not_found", "body is a required parameter", "body")];
    const partId = this.addPart(id, {
      part_type: b.message_type === "note" ? "note" : String(b.message_type),
      body: b.body,
      author: { id: adminId, type: "admin", name: "Context Relay", email: "relay@example.com" },
    });
    for (const concurrent of this.#concurrent.splice(0)) this.addPart(id, concurrent);
    const parts = this.#replyReturns === "new_part" ? c.parts.filter((p) => p.id === partId) : c.parts;
    return [200, this.#render(c, parts)];
  }

  #redact(body: unknown): [number, unknown] {
    const b = isRecord(body) ? body : {};
    if (b.type !== "conversation_part" && b.type !== "source") {
      return [400, errorList("type_mismatch", "The type attribute provided should be either 'conversation_part' or 'source'")];
    }
    if (b.conversation_id === undefined) return [400, errorList("parameter_not_found", "conversation_id is a required parameter")];
    const c = this.#conversations.get(String(b.conversation_id));
    const part = c?.parts.find((p) => p.id === String(b.conversation_part_id));
    if (!c || !part) return [404, errorList("conversation_part_or_message_not_found", "Conversation part or message not found")];
    if (part.redacted || part.body === null) return [400, errorList("conversation_part_not_redactable", "Part can't be redacted")];
    part.redacted = true;
    part.body = DELETED_BODY;
    part.updated_at = this.#seconds();
    c.updatedAt = part.updated_at;
    return [200, this.#render(c, c.parts)];
  }

  #render(c: Conversation, parts: EmulatedPart[]) {
    const shown = parts.slice(-MAX_PARTS_RETURNED);
    return {
      type: "conversation",
      id: c.id,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      waiting_since: null,
      snoozed_until: null,
      source: { type: "conversation", id: `4039${c.id}`, delivered_as: "customer_initiated", subject: "", body: "<p>Hi</p>", author: contact(), attachments: [], url: null, redacted: false },
      contacts: { type: "contact.list", contacts: [{ type: "contact", id: "6762f1571bb69f9f2193bbbb", external_id: "70" }] },
      open: true,
      state: "open",
      read: false,
      tags: { type: "tag.list", tags: [] },
      priority: "not_priority",
      conversation_parts: { type: "conversation_part.list", conversation_parts: structuredClone(shown), total_count: shown.length },
    };
  }

  #answer(call: EmulatedCall, status: number, json: unknown, authenticated: boolean, override?: { remaining: number; reset: number }): Response {
    call.outcome = status;
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (authenticated) {
      this.#rollWindow();
      headers["x-ratelimit-limit"] = String(this.#limit);
      headers["x-ratelimit-remaining"] = String(override?.remaining ?? Math.max(0, this.#limit - this.#window.used));
      headers["x-ratelimit-reset"] = String(override?.reset ?? this.#window.start + WINDOW_SECONDS);
    }
    return new Response(JSON.stringify(json), { status, headers });
  }

  #spend(): boolean {
    this.#rollWindow();
    if (this.#window.used >= this.#limit) return false;
    this.#window.used += 1;
    return true;
  }

  #rollWindow(): void {
    const start = Math.floor(this.#seconds() / WINDOW_SECONDS) * WINDOW_SECONDS;
    if (start !== this.#window.start) this.#window = { start, used: 0 };
  }

  #takeFault(method: string, path: string): Fault | undefined {
    const i = this.#faults.findIndex(({ scope, left }) => {
      if (left <= 0) return false;
      if (scope.method && scope.method !== method) return false;
      if (scope.path === undefined) return true;
      return typeof scope.path === "string" ? path.includes(scope.path) : scope.path.test(path);
    });
    if (i === -1) return undefined;
    const rule = this.#faults[i]!;
    rule.left -= 1;
    if (rule.left === 0) this.#faults.splice(i, 1);
    return rule.fault;
  }

  #conversation(id: string): Conversation {
    const c = this.#conversations.get(id);
    if (!c) throw new Error(`emulator: no conversation ${id}`);
    return c;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }
}

function errorList(code: string, message: string, field?: string) {
  return { type: "error.list", request_id: crypto.randomUUID(), errors: [{ code, message, ...(field ? { field } : {}) }] };
}

function contact(): EmulatedPart["author"] {
  return { id: "6762f1571bb69f9f2193bbbb", type: "user", name: "Joe Bloggs", email: "joe@bloggs.com" };
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Puts a fresh emulator behind `fetch` for each test of the calling file (it reaches code inside
 * the actor). The default window is large: the pace is shared by the whole isolate, and most tests
 * are not about it.
 */
export function useIntercomEmulator(options: EmulatorOptions = { limitPerWindow: 100_000 }): () => IntercomEmulator {
  let emulator: IntercomEmulator | undefined;
  beforeEach(() => {
    emulator = new IntercomEmulator(options);
    vi.spyOn(globalThis, "fetch").mockImplementation(emulator.fetch);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return () => emulator!;
}
