/**
 * @module
 * The summary prompt. `DEFAULT_PROMPT` is the Python SDK's text verbatim; in rolling mode the
 * previous summary is prepended so the newest summary covers the whole session. `boundedPrompt`
 * keeps every prompt within `SUMMARY_MAX_PROMPT_CHARS`.
 */
import { formatActions, formatActionsWithin, type FormatterName } from "./format";
import type { SlimAction } from "./model";

export const DEFAULT_PROMPT = `You are summarising a user's in-app session for a RAG pipeline.
Your summary will be embedded and stored in a vector database to provide
context for a chatbot or AI assistant.

Write a concise 2-3 sentence summary of what the user did, focusing on:
- Which features or pages they visited
- What actions they performed
- Any clear intent or goal you can infer

Actions:
{actions}

Summary:`;

export type SummaryMode = "rolling" | "independent";

export interface PromptInput {
  template: string;
  actionsText: string;
  previousSummary: string | null;
  mode: SummaryMode;
}

const ROLLING_PREFACE =
  "Summary of the session so far (fold it into your new summary so that it covers the whole session):\n";

/**
 * Fills `{actions}` (every occurrence; other braces are left alone, unlike Python's `str.format`,
 * so a template with literal JSON never fails). Rolling mode puts the previous summary first.
 */
export function buildPrompt({ template, actionsText, previousSummary, mode }: PromptInput): string {
  const body = template.split("{actions}").join(actionsText);
  if (mode !== "rolling" || !previousSummary) return body;
  return `${ROLLING_PREFACE}${previousSummary}\n\n${body}`;
}

/** The least room a capped prompt keeps for each `{actions}` (config refuses a cap that leaves less). */
export const MIN_ACTIONS_CHARS = 1_000;

/** The template's own characters and how many times it holds `{actions}`. */
export function templateCost(template: string): { fixedChars: number; slots: number } {
  const parts = template.split("{actions}");
  return { fixedChars: parts.join("").length, slots: parts.length - 1 };
}

export interface BoundedPromptInput {
  template: string;
  actions: readonly SlimAction[];
  formatter: FormatterName;
  previousSummary: string | null;
  mode: SummaryMode;
  maxChars: number;
}

/**
 * The prompt, never longer than `maxChars`. Under the cap it is exactly `buildPrompt`'s (SDK
 * parity). Over it, the previous summary (rolling mode) counts too: it keeps its full length unless
 * that would leave the actions less than `MIN_ACTIONS_CHARS` each, and the actions take what is
 * left, rendered by `formatActionsWithin` (clipped fields, then an elision line).
 */
export function boundedPrompt({ template, actions, formatter, previousSummary, mode, maxChars }: BoundedPromptInput): string {
  const exact = buildPrompt({ template, actionsText: formatActions(formatter, actions), previousSummary, mode });
  if (exact.length <= maxChars) return exact;
  const { fixedChars, slots } = templateCost(template);
  const rolling = mode === "rolling" && previousSummary ? previousSummary : null;
  const framing = rolling === null ? 0 : ROLLING_PREFACE.length + 2;
  const previousRoom = Math.max(0, maxChars - fixedChars - framing - slots * MIN_ACTIONS_CHARS);
  const previous = rolling !== null && rolling.length > previousRoom ? `${rolling.slice(0, Math.max(0, previousRoom - 1))}\u2026` : rolling;
  const used = fixedChars + (previous === null ? 0 : framing + previous.length);
  const perSlot = Math.max(0, Math.floor((maxChars - used) / Math.max(1, slots)));
  const prompt = buildPrompt({ template, actionsText: formatActionsWithin(formatter, actions, perSlot), previousSummary: previous, mode });
  // Only a template over the cap by itself (config refuses one) could still be too long.
  return prompt.slice(0, maxChars);
}

/**
 * Catch-up: how many of the waiting windows (each window's actions, oldest first) one prompt
 * takes. The first always (bounded as usual); each next one only while the exact prompt stays
 * within the cap, so merging windows never cuts an action from the prompt.
 */
export function windowsThatFit(windows: readonly (readonly SlimAction[])[], input: Omit<BoundedPromptInput, "actions">): number {
  const { template, formatter, previousSummary, mode, maxChars } = input;
  let taken = Math.min(1, windows.length);
  let actions = [...(windows[0] ?? [])];
  for (const next of windows.slice(1)) {
    actions = [...actions, ...next];
    if (buildPrompt({ template, actionsText: formatActions(formatter, actions), previousSummary, mode }).length > maxChars) break;
    taken += 1;
  }
  return taken;
}
