/**
 * @module
 * Summaries from any OpenAI-compatible chat completions endpoint (OpenAI, Azure, AI Gateway,
 * Workers AI's OpenAI endpoint, Ollama) through the `openai` SDK. The SDK's own retries are off:
 * the session's step machine retries with backoff, so retries never multiply.
 *
 * One deadline: the SDK's `timeout`. It already spans the whole exchange, reading the body
 * included, and ends in a typed timeout error; routing the call through `callHttp` as the SDK's
 * `fetch` would turn our answer back into a Response for the SDK to translate a second time.
 */
import OpenAI from "openai";
import type { LlmConfig } from "../config";
import { meter } from "../meter";
import { classifyStatus, parseRetryAfter } from "../outbound/status";
import { failed, retry } from "../result";
import type { Summariser, SummaryResult } from "./types";

const REQUEST_REJECTED = new Set([400, 413, 422]);

/**
 * Maps an SDK error onto retry-later or failed-for-good, with no secret in the message. Statuses
 * follow the shared rules (`classifyStatus`, `Retry-After`) with two LLM exceptions:
 * - 409: the provider's own lock timeout (the SDK itself retries it), so transient;
 * - 429: a plain retry, not a paced one: providers also answer 429 for an exhausted quota,
 *   which waiting will not fix, so it must still count toward parking.
 * A 400, 413 or 422 refuses this request (`context_length_exceeded`, an unprocessable input), so
 * it is marked `requestRejected` and the step falls back to an extractive summary. Every other
 * 4xx (401, 403, a 404 model, 402 billing) is the setup's fault: it fails as is and parks,
 * visibly, rather than quietly turning every session's summaries extractive.
 */
export function classifyLlmError(err: unknown, now: number): SummaryResult {
  // Checked before APIConnectionError, which it extends.
  if (err instanceof OpenAI.APIConnectionTimeoutError) return retry("LLM timed out");
  if (err instanceof OpenAI.APIConnectionError) return retry("LLM connection failed");
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    const message = `LLM answered ${status}${err.code ? ` ${err.code}` : ""}`;
    const verdict = classifyStatus(status);
    if (verdict === "retry" || verdict === "rate-limited" || status === 409) {
      const retryAfterMs = parseRetryAfter(err.headers?.get("retry-after"), now);
      return retry(message, retryAfterMs === undefined ? {} : { retryAfterMs });
    }
    return REQUEST_REJECTED.has(status) ? { ...failed(message), requestRejected: true } : failed(message);
  }
  return retry(`LLM call failed: ${err instanceof Error ? err.name : "unknown error"}`);
}

export function createOpenAiSummariser(config: LlmConfig): Summariser {
  const client = new OpenAI({
    apiKey: config.apiKey ?? "not-needed",
    baseURL: config.baseURL ?? undefined,
    timeout: config.timeoutMs,
    maxRetries: 0,
    // Looked up per call, so a test's spy on the global fetch reaches it.
    fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, init),
  });
  return {
    name: `openai-compatible:${config.model}`,
    extractive: false,
    async summarise({ prompt }): Promise<SummaryResult> {
      try {
        const completion = await client.chat.completions.create({
          model: config.model,
          messages: [{ role: "user", content: prompt }],
          temperature: config.temperature,
          max_tokens: config.maxTokens,
        });
        meter.llmCall(completion.usage);
        return { kind: "done", text: completion.choices[0]?.message?.content ?? "" };
      } catch (err) {
        meter.llmCall();
        return classifyLlmError(err, Date.now());
      }
    },
  };
}
