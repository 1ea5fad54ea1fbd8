/**
 * @module
 * Action formatters for prompts and notes. `numbered` is the SDK's default `_format_actions`;
 * `by-page` is the seed's Intercom example (actions grouped under their canonical URL).
 */
import { actionToText, type SlimAction } from "./model";

export type FormatterName = "numbered" | "by-page";

/** `"{n}. {action.toText()}"`, numbered from 1 across every batch, newline-joined. */
export function formatNumbered(actions: readonly SlimAction[]): string {
  return actions.map((a, i) => `${i + 1}. ${actionToText(a)}`).join("\n");
}

/** `[url]` headings with `  - {title}` lines; a new heading whenever the page changes. */
export function formatByPage(actions: readonly SlimAction[]): string {
  const lines: string[] = [];
  let current: string | null = null;
  for (const a of actions) {
    if (a.canonical_url !== current) {
      current = a.canonical_url;
      lines.push(`\n[${current}]`);
    }
    lines.push(`  - ${a.title || a.description}`);
  }
  return lines.join("\n").trim();
}

export function formatActions(name: FormatterName, actions: readonly SlimAction[]): string {
  return name === "by-page" ? formatByPage(actions) : formatNumbered(actions);
}
