/**
 * @module
 * The built-in summariser used when no LLM is configured: no network, deterministic, and it
 * says that it is extractive so nobody mistakes it for a model's summary.
 */
import type { Summariser, SummaryRequest, SummaryResult } from "./types";

const MAX_PAGES = 5;
const MAX_RECENT = 3;
const MAX_EARLIER_CHARS = 1_200;
/** Keeps the whole summary under the summary gate's limit however long the URLs. */
const MAX_PAGE_CHARS = 200;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}\u2026`;
}

function pageName(url: string): string {
  try {
    const { pathname } = new URL(url);
    return pathname === "/" ? url : pathname;
  } catch {
    return url;
  }
}

/** Why a summary is extractive, in its first line: no LLM at all, or the LLM's refusal (a fallback). */
const NO_LLM = "no LLM configured";

/** Any extractive summary's first sentence, so a rolling one does not repeat it. */
const HEADER = /^Extractive summary \(.*?\) of \d+ actions\.\s*/;

export function extractiveSummary({ actions, previousSummary }: SummaryRequest, why: string = NO_LLM): string {
  const pages = [...new Set(actions.map((a) => clip(pageName(a.canonical_url), MAX_PAGE_CHARS)).filter(Boolean))];
  const recent = actions
    .slice(-MAX_RECENT)
    .map((a) => clip(a.description || a.title, 160))
    .filter(Boolean);
  const parts = [`Extractive summary (${clip(why, 160)}) of ${actions.length} actions.`];
  if (pages.length) {
    const more = pages.length > MAX_PAGES ? ` and ${pages.length - MAX_PAGES} more` : "";
    parts.push(`Pages: ${pages.slice(0, MAX_PAGES).join(", ")}${more}.`);
  }
  if (recent.length) parts.push(`Latest: ${recent.join("; ")}.`);
  const earlier = previousSummary?.replace(HEADER, "");
  if (earlier) parts.push(`Earlier: ${clip(earlier, MAX_EARLIER_CHARS)}`);
  return parts.join(" ");
}

export function createExtractiveSummariser(): Summariser {
  return {
    name: "extractive",
    extractive: true,
    async summarise(request): Promise<SummaryResult> {
      return { kind: "done", text: extractiveSummary(request) };
    },
  };
}
