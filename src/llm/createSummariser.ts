/**
 * @module
 * Chooses the summariser: an OpenAI-compatible LLM when a key or a base URL is configured
 * (a local Ollama needs no key), otherwise the built-in extractive one.
 */
import type { LlmConfig } from "../config";
import { createExtractiveSummariser } from "./extractive";
import { createOpenAiSummariser } from "./openaiSummariser";
import type { Summariser } from "./types";

export function createSummariser(config: LlmConfig): Summariser {
  return config.apiKey || config.baseURL ? createOpenAiSummariser(config) : createExtractiveSummariser();
}
