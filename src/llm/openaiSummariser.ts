/**
 * @module
 * Summaries from any OpenAI-compatible chat completions endpoint (OpenAI, Azure, AI Gateway,
 * Workers AI's OpenAI endpoint, Ollama) through the `openai` SDK. The SDK's own retries are off:
 * the session's step machine retries with backoff, so retries never multiply.
 */
import OpenAI from "openai";
import type { LlmConfig } from "../config";
import type { Summariser, SummaryResult } from "./types";

/** Maps an SDK error onto retry-later or failed-for-good, with no secret in the message. */
export function classifyLlmError(err: unknown): SummaryResult {
  // Our own AbortSignal.timeout surfaces as a user abort: it is a timeout all the same.
  if (err instanceof OpenAI.APIConnectionTimeoutError || err instanceof OpenAI.APIUserAbortError) {
    return { kind: "retry", error: "LLM timed out" };
  }
  if (err instanceof OpenAI.APIConnectionError) return { kind: "retry", error: "LLM connection failed" };
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    const message = `LLM answered ${status}${err.code ? ` ${err.code}` : ""}`;
    // 408/409/429 and 5xx are transient by the provider's own account; other 4xx will not fix themselves.
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      const retryAfter = Number(err.headers?.get?.("retry-after") ?? "");
      return { kind: "retry", error: message, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
    }
    return { kind: "failed", error: message };
  }
  return { kind: "retry", error: `LLM call failed: ${err instanceof Error ? err.name : "unknown error"}` };
}

export function createOpenAiSummariser(config: LlmConfig): Summariser {
  const client = new OpenAI({
    apiKey: config.apiKey ?? "not-needed",
    baseURL: config.baseURL ?? undefined,
    timeout: config.timeoutMs,
    maxRetries: 0,
    fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, init),
  });
  return {
    name: `openai-compatible:${config.model}`,
    extractive: false,
    async summarise({ prompt }): Promise<SummaryResult> {
      try {
        const completion = await client.chat.completions.create(
          {
            model: config.model,
            messages: [{ role: "user", content: prompt }],
            temperature: config.temperature,
            max_tokens: config.maxTokens,
          },
          { signal: AbortSignal.timeout(config.timeoutMs) },
        );
        return { kind: "done", text: completion.choices[0]?.message?.content ?? "" };
      } catch (err) {
        return classifyLlmError(err);
      }
    },
  };
}
