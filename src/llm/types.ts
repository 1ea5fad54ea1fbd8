/**
 * @module
 * The summariser contract shared by the OpenAI-compatible client and the extractive fallback.
 */
import type { Failed, Result } from "../result";
import type { SlimAction } from "../session/model";

export interface SummaryRequest {
  prompt: string;
  /** The window's actions (the extractive summariser reads these instead of the prompt). */
  actions: SlimAction[];
  previousSummary: string | null;
}

/** Tokens one LLM call spent, as the provider reported them (OpenAI's `usage` names). */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * `usage`: on a model's summary, when the provider reported it (the extractive summariser has none).
 * `requestRejected`: the LLM refused this request as such (400, 413, 422: too long for the model,
 * unprocessable), so it can never succeed for this input, though the LLM itself works.
 */
export type SummaryResult =
  | Exclude<Result<{ text: string; usage?: TokenUsage }>, Failed>
  | (Failed & { requestRejected?: true });

/**
 * How a stored summary was made, as `windows.extractive` keeps it (non-zero: not a model's text):
 * by the LLM, by the extractive summariser because no LLM is configured, or by the extractive
 * summariser because the LLM refused the window's request.
 */
export const SUMMARY_ORIGIN = { llm: 0, extractive: 1, fallback: 2 } as const;
export type SummaryOrigin = (typeof SUMMARY_ORIGIN)[keyof typeof SUMMARY_ORIGIN];

export interface Summariser {
  /** Shown in the session state; never contains a key. */
  readonly name: string;
  /** True for the built-in extractive summariser (no LLM involved). */
  readonly extractive: boolean;
  summarise(request: SummaryRequest): Promise<SummaryResult>;
}
