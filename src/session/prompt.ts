/**
 * @module
 * The summary prompt. `DEFAULT_PROMPT` is the Python SDK's text verbatim; in rolling mode the
 * previous summary is prepended so the newest summary covers the whole session.
 */

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
