/**
 * @module
 * The gate every summary passes before it may be posted (and so before anything is redacted):
 * an empty answer, an error message dressed as a summary, or an absurdly long text is rejected.
 * Learned from systems that stored "Error generating summary: ..." and then deleted the history.
 */

export const MAX_SUMMARY_CHARS = 4_000;

const ERROR_LOOKING = [
  /^\s*(error|exception|traceback)\b/i, // "Error: ...", stack traces
  /^\s*(i'?m sorry|sorry,|i cannot|i can'?t|as an ai\b)/i, // refusals
  // Provider failures passed through as text. Anchored at the start: a real summary may well
  // mention "rate limits" (the user was on the rate-limit settings page).
  /^\s*(rate limit(ed)?|quota exceeded|internal server error|service unavailable|request timed out|\d{3} [a-z ]+$)/i,
  /^\s*(undefined|null|none|nan)\s*$/i, // a stringified missing value
];

export type SummaryVerdict = { ok: true; summary: string } | { ok: false; reason: string };

export function checkSummary(text: unknown): SummaryVerdict {
  if (typeof text !== "string") return { ok: false, reason: "summary is not text" };
  const summary = text.trim();
  if (!summary) return { ok: false, reason: "summary is empty" };
  if (summary.length > MAX_SUMMARY_CHARS) {
    return { ok: false, reason: `summary is ${summary.length} characters, over the limit of ${MAX_SUMMARY_CHARS}` };
  }
  const match = ERROR_LOOKING.find((re) => re.test(summary));
  if (match) return { ok: false, reason: "summary looks like an error message, not a summary" };
  return { ok: true, summary };
}
