/**
 * @module
 * The OpenAI chat completions wire format, pure: the request for one prompt, and what an exchange
 * with the endpoint means for the summarise step. `openaiSummariser.ts` sends it through `callHttp`.
 */
import type { LlmConfig } from "../config";
import type { Exchange, OutboundRequest } from "../outbound/http";
import { classifyStatus, parseRetryAfter } from "../outbound/status";
import { failed, retry } from "../result";
import type { SummaryResult, TokenUsage } from "./types";

export const DEFAULT_BASE_URL = "https://api.openai.com/v1";

const REQUEST_REJECTED = new Set([400, 413, 422]);

/** An error code goes into operator-facing messages only if it looks like one (never free text). */
const ERROR_CODE = /^[\w.-]{1,64}$/;

/**
 * `POST {base}/chat/completions` for one user message; the key is sent only when one is set (a
 * local Ollama needs none).
 * @example callHttp(fetch, chatRequest(config, prompt), config.timeoutMs)
 */
export function chatRequest(config: LlmConfig, prompt: string): OutboundRequest {
  const base = (config.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  const body = JSON.stringify({
    model: config.model,
    messages: [{ role: "user", content: prompt }],
    temperature: config.temperature,
    max_tokens: config.maxTokens,
  });
  return { url: `${base}/chat/completions`, method: "POST", headers, body };
}

/**
 * Reads an exchange as retry-later, failed-for-good or the summary text, with no secret and no body
 * in any message. Statuses follow the shared rules (`classifyStatus`, `Retry-After`) with two LLM
 * exceptions:
 * - 409: the provider's own lock timeout, so transient;
 * - 429: a plain retry, not a paced one: providers also answer 429 for an exhausted quota,
 *   which waiting will not fix, so it must still count toward parking.
 * A 400, 413 or 422 refuses this request (`context_length_exceeded`, an unprocessable input), so
 * it is marked `requestRejected` and the step falls back to an extractive summary. Every other
 * 4xx (401, 403, a 404 model, 402 billing) and a redirect is the setup's fault: it fails as is and
 * parks, visibly, rather than quietly turning every session's summaries extractive.
 */
export function readChatAnswer(answer: Exchange, now: number): SummaryResult {
  if (answer.kind === "lost") return retry(answer.why === "timed out" ? "LLM timed out" : "LLM connection failed");
  const { status } = answer;
  const verdict = classifyStatus(status);
  if (verdict === "done") return completion(answer.json, status);
  const code = errorCode(answer.json);
  const message = `LLM answered ${status}${code ? ` ${code}` : ""}`;
  if (verdict === "retry" || verdict === "rate-limited" || status === 409) {
    const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"), now);
    return retry(message, retryAfterMs === undefined ? {} : { retryAfterMs });
  }
  if (verdict === "redirect") return failed(`${message} (redirects are not followed: check LLM_BASE_URL)`);
  return REQUEST_REJECTED.has(status) ? { ...failed(message), requestRejected: true } : failed(message);
}

/** A 2xx that is not a chat completion (a proxy's page, an empty body) may be a passing fault: retry. */
function completion(json: unknown, status: number): SummaryResult {
  const choices = field(json, "choices");
  if (!Array.isArray(choices)) return retry(`LLM answered ${status} without a chat completion`);
  const content = field(field(choices[0], "message"), "content");
  const usage = tokenUsage(field(json, "usage"));
  return { kind: "done", text: typeof content === "string" ? content : "", ...(usage ? { usage } : {}) };
}

function tokenUsage(usage: unknown): TokenUsage | undefined {
  const prompt = field(usage, "prompt_tokens");
  const completionTokens = field(usage, "completion_tokens");
  if (!isCount(prompt) || !isCount(completionTokens)) return undefined;
  return { prompt_tokens: prompt, completion_tokens: completionTokens };
}

/** OpenAI's error body: `{ "error": { "code": "context_length_exceeded", ... } }`. */
function errorCode(json: unknown): string | undefined {
  const code = field(field(json, "error"), "code");
  const text = typeof code === "number" ? String(code) : code;
  return typeof text === "string" && ERROR_CODE.test(text) ? text : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
