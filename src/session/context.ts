/**
 * @module
 * The text an agent reads for a session now: the latest posted summary, then every action it does
 * not cover (delivered or still pending), in the SDK's `ContextStore.get` format. `query` wraps it
 * the way the SDK's `enrich()` does.
 */
import { formatNumbered } from "./format";
import type { SessionStore } from "./sessionStore";
import type { SessionRow } from "./store/schema";

export function composeContext(summary: string | null, recentActivity: string): string {
  const parts: string[] = [];
  if (summary) parts.push(`Summary: ${summary}`);
  if (recentActivity) parts.push(`Recent activity:\n${recentActivity}`);
  return parts.join("\n\n");
}

export function enrich(context: string, query: string): string {
  return context ? `[Session context]\n${context}\n\n[Query]\n${query}` : query;
}

export function buildContext(store: SessionStore, s: SessionRow, query?: string): string {
  const summary = store.latestSummary()?.summary ?? null;
  const context = composeContext(summary, formatNumbered(store.uncoveredActions(s.covered_window)));
  return query === undefined ? context : enrich(context, query);
}
