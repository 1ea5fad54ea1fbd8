/**
 * @module
 * The summariser contract shared by the OpenAI-compatible client and the extractive fallback.
 */
import type { Result } from "../result";
import type { SlimAction } from "../session/model";

export interface SummaryRequest {
  prompt: string;
  /** The window's actions (the extractive summariser reads these instead of the prompt). */
  actions: SlimAction[];
  previousSummary: string | null;
}

export type SummaryResult = Result<{ text: string }>;

export interface Summariser {
  /** Shown in the session state; never contains a key. */
  readonly name: string;
  /** True for the built-in extractive summariser (no LLM involved). */
  readonly extractive: boolean;
  summarise(request: SummaryRequest): Promise<SummaryResult>;
}
