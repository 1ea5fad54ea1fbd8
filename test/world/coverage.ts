/**
 * What a summary covers beyond the tokens its text lists, known to the whole world: the LLM lane
 * is shared (one summary per window, posted to every destination), so every receiver, and a check
 * of summaries the service stored but has not posted yet, reads the same coverage.
 */
import { decodeCoverage } from "./ledger.ts";

/** How the fake LLM marks a summary of a window whose prompt elided actions. */
export const ELIDED_MARK = "(some of the window's actions were elided from the prompt)";

export class SummaryCoverage {
  /** Per actor, what the prompts the LLM refused (400) covered: the service's extractive fallback covers the same. */
  readonly fallback = new Map<string, Set<string>>();
  /**
   * Per actor, what summaries covered beyond the tokens their text lists (a window whose prompt
   * elided actions covers every action of that window): a later summary builds on it, so it
   * covers the same.
   */
  private readonly credited = new Map<string, Set<string>>();

  /** Remembers what a refused prompt covered, for the extractive summary the service posts instead. */
  refused(actor: string, tokens: Iterable<string>): void {
    this.fallback.set(actor, new Set([...(this.fallback.get(actor) ?? []), ...tokens]));
  }

  /**
   * A summary landed: a text whose prompt elided actions stands for its whole window, so the
   * window's raw tokens (as they landed at any destination) are credited to it and to later ones.
   */
  landed(actor: string, text: string, windowTokens: () => Iterable<string>): void {
    if (decodeCoverage(text) === null || !text.includes(ELIDED_MARK)) return;
    const credited = this.credited.get(actor) ?? new Set<string>();
    for (const t of windowTokens()) credited.add(t);
    this.credited.set(actor, credited);
  }

  /** What a summary covers; null when its text lists no coverage and it is no fallback (a bad summary). */
  of(actor: string, text: string, extractive: boolean): Set<string> | null {
    // An extractive fallback (the LLM refused the window) covers what the refused prompts did.
    const fallback = extractive ? this.fallback.get(actor) : undefined;
    const quoted = decodeCoverage(text);
    if (quoted === null && !fallback) return null;
    return new Set([...(quoted ?? []), ...(fallback ?? []), ...(this.credited.get(actor) ?? [])]);
  }
}
