/**
 * @module
 * Chooses the summariser: an OpenAI-compatible LLM when a key or a base URL is configured
 * (a local Ollama needs no key), otherwise the built-in extractive one.
 */
import type { LlmConfig } from "../config";
import { createExtractiveSummariser } from "./extractive";
import { createOpenAiSummariser } from "./openaiSummariser";
import type { Summariser } from "./types";

/** True when an LLM is configured: a key, or a base URL (a local Ollama needs no key). */
export function usesLlm(config: LlmConfig): boolean {
  return Boolean(config.apiKey || config.baseURL);
}

export function createSummariser(config: LlmConfig): Summariser {
  return usesLlm(config) ? createOpenAiSummariser(config) : createExtractiveSummariser();
}
