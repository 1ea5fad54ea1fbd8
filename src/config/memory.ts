/**
 * @module
 * Memory's settings: `MEMORY` (on, off) and the embedder. Full-text memory needs no setting; vectors
 * come when `EMBED_MODEL` is set, through an OpenAI-compatible `/v1/embeddings` endpoint whose
 * base URL and key default to the LLM's (`LLM_BASE_URL`, `LLM_API_KEY`). No model is assumed:
 * an LLM endpoint may not embed, and a wrong guess would park every memory step. Pure.
 */
import { oneOf, text, type Vars } from "./settings";

export interface EmbedConfig {
  model: string;
  /** OpenAI-compatible base URL (`…/v1`); null: OpenAI's. */
  baseURL: string | null;
  apiKey: string | null;
  timeoutMs: number;
}

export const memoryOn = (vars: Vars): boolean => oneOf(vars, "MEMORY", ["on", "off"] as const, "on") === "on";

/** The embedder, or null when `EMBED_MODEL` is unset (full-text memory only). */
export function parseEmbed(vars: Vars, llmTimeoutMs: number): EmbedConfig | null {
  const model = text(vars, "EMBED_MODEL");
  if (model === undefined) return null;
  return {
    model,
    baseURL: text(vars, "EMBED_BASE_URL") ?? text(vars, "LLM_BASE_URL") ?? null,
    apiKey: text(vars, "EMBED_API_KEY") ?? text(vars, "LLM_API_KEY") ?? text(vars, "OPENAI_API_KEY") ?? null,
    timeoutMs: llmTimeoutMs,
  };
}
