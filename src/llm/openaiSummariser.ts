/**
 * @module
 * Summaries from any OpenAI-compatible chat completions endpoint (OpenAI, Azure, AI Gateway,
 * Workers AI's OpenAI endpoint, Ollama): one POST through the project's outbound helper, so one
 * deadline (`LLM_TIMEOUT_MS`) covers the whole exchange, body included, and there is no retry
 * inside the call: the session's step machine retries with backoff, so retries never multiply.
 */
import type { LlmConfig } from "../config";
import { meter } from "../meter";
import { callHttp } from "../outbound/http";
import { chatRequest, readChatAnswer } from "./chatCompletions";
import type { Summariser, SummaryResult } from "./types";

/** Looked up per call, so a test's spy on the global fetch reaches it. */
const globalFetch: typeof fetch = (input, init) => fetch(input, init);

export function createOpenAiSummariser(config: LlmConfig): Summariser {
  return {
    name: `openai-compatible:${config.model}`,
    extractive: false,
    async summarise({ prompt }): Promise<SummaryResult> {
      const answer = await callHttp(globalFetch, chatRequest(config, prompt), config.timeoutMs);
      const result = readChatAnswer(answer, Date.now());
      meter.llmCall(result.kind === "done" ? result.usage : undefined);
      return result;
    },
  };
}
