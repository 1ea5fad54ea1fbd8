import { afterEach, describe, expect, it, vi } from "vitest";
import type { LlmConfig } from "../../src/config";
import { createWebhookDestination } from "../../src/destinations/webhook";
import { createOpenAiSummariser } from "../../src/llm/openaiSummariser";
import { callHttp, type OutboundRequest } from "../../src/outbound/http";
import { answerResult, classifyStatus, parseRetryAfter } from "../../src/outbound/status";

const NOW = Date.UTC(2026, 0, 31, 9, 0, 0);
const REQUEST: OutboundRequest = { url: "https://dest.test/x", method: "POST", headers: { "content-type": "application/json" }, body: "{}" };

/** A fetch whose answer never comes; it rejects when the caller aborts, as fetch does. */
const hangingFetch = (seen: { signal?: AbortSignal } = {}): typeof fetch =>
  ((_input: RequestInfo | URL, init?: RequestInit) =>
    new Promise<Response>((_resolve, reject) => {
      seen.signal = init!.signal!;
      init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason));
    })) as typeof fetch;

/** Headers arrive, then the body never ends. */
const endlessBody = () => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }), { status: 200 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the shared status classification", () => {
  it.each([
    [200, "done"],
    [204, "done"],
    [299, "done"],
    [429, "rate-limited"],
    [408, "retry"],
    [500, "retry"],
    [503, "retry"],
    [599, "retry"],
    [301, "redirect"],
    [302, "redirect"],
    [307, "redirect"],
    [410, "gone"],
    [400, "rejected"],
    [401, "rejected"],
    [404, "rejected"],
    [409, "rejected"],
    [422, "rejected"],
    [0, "rejected"],
  ] as const)("%i is %s", (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });

  it.each([
    ["120", 120_000],
    [" 7 ", 7_000],
    ["1.5", 1_500],
    ["Sat, 31 Jan 2026 09:00:30 GMT", 30_000],
    ["Saturday, 31-Jan-26 09:01:00 GMT", 60_000],
    ["0", undefined],
    ["Sat, 31 Jan 2026 08:59:00 GMT", undefined],
    ["soon", undefined],
    ["-5", undefined],
    ["", undefined],
    [null, undefined],
  ] as const)("Retry-After %j waits %s ms", (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  const answer = (status: number, headers: Record<string, string> = {}) => ({ status, headers: new Headers(headers) });

  it("reads answers as results: done, paced and plain retries with their wait, failures saying why", () => {
    expect(answerResult(answer(202), "x answered 202", NOW)).toEqual({ kind: "done" });
    expect(answerResult(answer(429, { "retry-after": "3" }), "x answered 429", NOW)).toEqual({ kind: "retry", error: "x answered 429", retryAfterMs: 3_000, rateLimited: true });
    expect(answerResult(answer(503, { "retry-after": "Sat, 31 Jan 2026 09:00:05 GMT" }), "x answered 503", NOW)).toEqual({ kind: "retry", error: "x answered 503", retryAfterMs: 5_000 });
    expect(answerResult(answer(500), "x answered 500", NOW)).toEqual({ kind: "retry", error: "x answered 500" });
    expect(answerResult(answer(302), "x answered 302", NOW)).toEqual({ kind: "failed", error: "x answered 302 (redirects are not followed)" });
    expect(answerResult(answer(410), "x answered 410", NOW)).toEqual({ kind: "failed", error: "x answered 410" });
    expect(answerResult(answer(400, { "retry-after": "3" }), "x answered 400", NOW)).toEqual({ kind: "failed", error: "x answered 400" });
  });
});

describe("one outbound call", () => {
  it("reads the answer as text, and as JSON when it parses; redirects are not followed", async () => {
    const fetchFn = vi.fn<typeof fetch>(async () => Response.json({ ok: 1 }, { status: 201, headers: { "x-a": "b" } }));
    const answer = await callHttp(fetchFn, REQUEST, 1_000);
    expect(answer).toMatchObject({ kind: "answered", status: 201, text: '{"ok":1}', json: { ok: 1 } });
    expect(answer.kind === "answered" && answer.headers.get("x-a")).toBe("b");
    expect(fetchFn.mock.calls[0]![1]).toMatchObject({ method: "POST", body: "{}", redirect: "manual" });
    expect(await callHttp(async () => new Response("not json", { status: 502 }), REQUEST, 1_000)).toMatchObject({ text: "not json", json: undefined });
  });

  it("times out a request that never answers, and aborts it so a late answer cannot act", async () => {
    const seen: { signal?: AbortSignal } = {};
    expect(await callHttp(hangingFetch(seen), REQUEST, 20)).toEqual({ kind: "lost", why: "timed out" });
    expect(seen.signal!.aborted).toBe(true);
  });

  it("times out an answer whose body never ends", async () => {
    expect(await callHttp(async () => endlessBody(), REQUEST, 20)).toEqual({ kind: "lost", why: "timed out" });
  });

  it("tells a timeout raised by the platform from a connection failure", async () => {
    const thrown = (err: unknown): typeof fetch => async () => Promise.reject(err);
    expect(await callHttp(thrown(new DOMException("timed out", "TimeoutError")), REQUEST, 1_000)).toEqual({ kind: "lost", why: "timed out" });
    expect(await callHttp(thrown(new TypeError("fetch failed")), REQUEST, 1_000)).toEqual({ kind: "lost", why: "connection failed" });
  });
});

describe("the webhook's rules on top", () => {
  const post = async (fetchFn: typeof fetch) => {
    const destination = createWebhookDestination({ url: "https://hooks.test/in", key: new Uint8Array(32) }, { fetch: fetchFn, now: () => NOW, timeoutMs: 20 });
    const note = { key: "e-n1", kind: "raw" as const, text: "t", actions: [], summary: null, window: 0, extractive: false, createdAt: NOW };
    return destination.post({ productId: "p", sessionId: "s", link: null }, note);
  };
  const answering = (status: number, headers: Record<string, string> = {}): typeof fetch => async () => new Response(null, { status, headers });

  it.each([
    [204, { kind: "done", partId: "e-n1" }],
    [410, { kind: "failed", error: "webhook answered 410 (endpoint gone)" }],
    [308, { kind: "failed", error: "webhook answered 308 (redirects are not followed)" }],
    [400, { kind: "failed", error: "webhook answered 400" }],
    [503, { kind: "retry", error: "webhook answered 503" }],
  ] as const)("a %i is %j", async (status, expected) => {
    expect(await post(answering(status))).toEqual(expected);
  });

  it("waits out a 429 as paced, and counts a lost answer as an unknown outcome", async () => {
    expect(await post(answering(429, { "retry-after": "2" }))).toEqual({ kind: "retry", error: "webhook answered 429", retryAfterMs: 2_000, rateLimited: true });
    expect(await post(hangingFetch())).toEqual({ kind: "retry", error: "webhook timed out", unknownOutcome: true });
    expect(await post(async () => Promise.reject(new TypeError("fetch failed")))).toEqual({ kind: "retry", error: "webhook connection failed", unknownOutcome: true });
  });
});

describe("the LLM client's rules on top", () => {
  const config: LlmConfig = { baseURL: "https://llm.test/v1/", apiKey: "sk-secret", model: "m", temperature: 0.2, maxTokens: 50, timeoutMs: 50, breakerFailures: 5, breakerPauseMs: 1_000 };
  const summarise = (settings: LlmConfig = config) => createOpenAiSummariser(settings).summarise({ prompt: "p", actions: [], previousSummary: null });
  /** The global fetch answers `body` (JSON unless a string) with this status and headers. */
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers }));
  const apiError = async (status: number, headers: Record<string, string> = {}, code?: string | number) => {
    answer(status, { error: { message: "m", ...(code !== undefined ? { code } : {}) } }, headers);
    return summarise();
  };
  const completion = (content: unknown, extra: object = {}) => ({ id: "c", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content } }], ...extra });

  it("posts one chat completion to {base}/chat/completions with the key as a bearer token", async () => {
    const spy = answer(200, completion("a summary"));
    expect(await summarise()).toEqual({ kind: "done", text: "a summary" });
    const [url, init] = spy.mock.calls[0]!;
    expect(url).toBe("https://llm.test/v1/chat/completions");
    expect(init).toMatchObject({ method: "POST", redirect: "manual", headers: { authorization: "Bearer sk-secret", "content-type": "application/json" } });
    expect(JSON.parse(init!.body as string)).toEqual({ model: "m", messages: [{ role: "user", content: "p" }], temperature: 0.2, max_tokens: 50 });
  });

  it("defaults to OpenAI's base URL and sends no authorization without a key (a local Ollama)", async () => {
    const spy = answer(200, completion("s"));
    await summarise({ ...config, baseURL: null, apiKey: null });
    const [url, init] = spy.mock.calls[0]!;
    expect(url).toBe("https://api.openai.com/v1/chat/completions");
    expect(init!.headers).not.toHaveProperty("authorization");
  });

  it("returns the provider's token usage with the text, and an empty text when the content is not a string", async () => {
    answer(200, completion("s", { usage: { prompt_tokens: 120, completion_tokens: 40, total_tokens: 160 } }));
    expect(await summarise()).toEqual({ kind: "done", text: "s", usage: { prompt_tokens: 120, completion_tokens: 40 } });
    answer(200, completion(null, { usage: { prompt_tokens: "many" } }));
    expect(await summarise()).toEqual({ kind: "done", text: "" });
    answer(200, { choices: [] });
    expect(await summarise()).toEqual({ kind: "done", text: "" });
  });

  it("retries a 2xx that is not a chat completion, naming neither the body nor the key", async () => {
    for (const body of ["<html>sk-secret gateway page</html>", { result: "sk-secret" }, ""]) {
      answer(200, body);
      const result = await summarise();
      expect(result).toEqual({ kind: "retry", error: "LLM answered 200 without a chat completion" });
    }
  });

  it.each([
    [408, "retry"],
    [409, "retry"],
    [429, "retry"],
    [500, "retry"],
    [503, "retry"],
    [302, "failed"],
    [400, "failed"],
    [401, "failed"],
    [404, "failed"],
    [410, "failed"],
  ] as const)("an answered %i is %s", async (status, kind) => {
    expect((await apiError(status)).kind).toBe(kind);
  });

  it("marks 400, 413 and 422 as a refused request (the step falls back); auth, permission and setup errors stay plain failures (they park)", async () => {
    for (const status of [400, 413, 422]) expect(await apiError(status)).toMatchObject({ kind: "failed", requestRejected: true });
    for (const status of [401, 402, 403, 404, 410]) expect(await apiError(status)).not.toHaveProperty("requestRejected");
    expect(await apiError(400, {}, "context_length_exceeded")).toEqual({
      kind: "failed",
      error: "LLM answered 400 context_length_exceeded",
      requestRejected: true,
    });
  });

  it("keeps its messages, honours Retry-After, and never treats a 429 as paced (a spent quota must park)", async () => {
    expect(await apiError(503, { "retry-after": "4" })).toEqual({ kind: "retry", error: "LLM answered 503", retryAfterMs: 4_000 });
    expect(await apiError(429, {}, "insufficient_quota")).toEqual({ kind: "retry", error: "LLM answered 429 insufficient_quota" });
    expect(await apiError(500, {}, "free text with sk-secret in it")).toEqual({ kind: "retry", error: "LLM answered 500" });
    answer(502, "<html>bad gateway</html>");
    expect(await summarise()).toEqual({ kind: "retry", error: "LLM answered 502" });
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("fetch failed"));
    expect(await summarise()).toEqual({ kind: "retry", error: "LLM connection failed" });
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new DOMException("platform timeout", "TimeoutError"));
    expect(await summarise()).toEqual({ kind: "retry", error: "LLM timed out" });
  });

  it("refuses to follow a redirect, naming the setting to fix", async () => {
    expect(await apiError(301, { location: "https://elsewhere.test/v1/chat/completions" })).toEqual({
      kind: "failed",
      error: "LLM answered 301 (redirects are not followed: check LLM_BASE_URL)",
    });
  });

  it("has one deadline, callHttp's, which covers a request that hangs and a body that never ends", async () => {
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(hangingFetch());
    expect(await summarise()).toEqual({ kind: "retry", error: "LLM timed out" });
    spy.mockImplementation(async () => endlessBody());
    expect(await summarise()).toEqual({ kind: "retry", error: "LLM timed out" });
    expect(spy).toHaveBeenCalledTimes(2); // no retries inside the call
  });
});
