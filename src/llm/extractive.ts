/**
 * @module
 * The built-in summariser used when no LLM is configured: no network, deterministic, and it
 * says that it is extractive so nobody mistakes it for a model's summary.
 */
import type { Summariser, SummaryRequest, SummaryResult } from "./types";

const MAX_PAGES = 5;
const MAX_RECENT = 3;
const MAX_EARLIER_CHARS = 1_200;

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

export function extractiveSummary({ actions, previousSummary }: SummaryRequest): string {
  const pages = [...new Set(actions.map((a) => pageName(a.canonical_url)).filter(Boolean))];
  const recent = actions
    .slice(-MAX_RECENT)
    .map((a) => clip(a.description || a.title, 160))
    .filter(Boolean);
  const parts = [`Extractive summary (no LLM configured) of ${actions.length} actions.`];
  if (pages.length) {
    const more = pages.length > MAX_PAGES ? ` and ${pages.length - MAX_PAGES} more` : "";
    parts.push(`Pages: ${pages.slice(0, MAX_PAGES).join(", ")}${more}.`);
  }
  if (recent.length) parts.push(`Latest: ${recent.join("; ")}.`);
  const earlier = previousSummary?.replace(/^Extractive summary \(no LLM configured\) of \d+ actions\.\s*/, "");
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
