/**
 * @module
 * Action formatters for prompts and notes. `numbered` is the SDK's default `_format_actions`;
 * `by-page` is the seed's Intercom example (actions grouped under their canonical URL).
 * `formatActionsWithin` renders the same formats within a character budget (see its steps).
 */
import { actionToText, type SlimAction } from "./model";

export type FormatterName = "numbered" | "by-page";

/** One line of a rendering: an action at its 1-based position in the window, or a run of elided ones. */
type Line = { action: SlimAction; position: number } | { elided: readonly SlimAction[] };

const ELLIPSIS = "\u2026";
/** Field lengths tried in turn (longest first) before actions are elided. */
const FIELD_LIMITS = [1_000, 300, 120] as const;
/** How many action types and pages an elision line names. */
const ELIDED_NAMES = 4;
const ELIDED_NAME_CHARS = 60;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}${ELLIPSIS}`;
}

function clipFields(a: SlimAction, max: number): SlimAction {
  return { ...a, title: clip(a.title, max), description: clip(a.description, max), canonical_url: clip(a.canonical_url, max), type: clip(a.type, max) };
}

/** The most frequent values first (ties by name, so the line is deterministic), each with its count. */
function tally(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const ranked = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const named = ranked.slice(0, ELIDED_NAMES).map(([v, n]) => `${clip(v || "(none)", ELIDED_NAME_CHARS)} \u00d7${n}`);
  const more = ranked.length > ELIDED_NAMES ? `, ${ranked.length - ELIDED_NAMES} more` : "";
  return `${named.join(", ")}${more}`;
}

/** `… 180 actions elided (types: click ×120, pageview ×60; pages: /billing ×90, …) …` */
function elisionLine(elided: readonly SlimAction[]): string {
  const types = tally(elided.map((a) => a.type));
  const pages = tally(elided.map((a) => a.canonical_url));
  return `${ELLIPSIS} ${elided.length} actions elided (types: ${types}; pages: ${pages}) ${ELLIPSIS}`;
}

function renderNumbered(lines: readonly Line[]): string {
  return lines.map((l) => ("elided" in l ? elisionLine(l.elided) : `${l.position}. ${actionToText(l.action)}`)).join("\n");
}

function renderByPage(lines: readonly Line[]): string {
  const out: string[] = [];
  let current: string | null = null;
  for (const l of lines) {
    if ("elided" in l) {
      out.push(`\n${elisionLine(l.elided)}`);
      current = null; // the actions after the gap get their page heading again
      continue;
    }
    if (l.action.canonical_url !== current) {
      current = l.action.canonical_url;
      out.push(`\n[${current}]`);
    }
    out.push(`  - ${l.action.title || l.action.description}`);
  }
  return out.join("\n").trim();
}

function render(name: FormatterName, lines: readonly Line[]): string {
  return name === "by-page" ? renderByPage(lines) : renderNumbered(lines);
}

const allLines = (actions: readonly SlimAction[]): Line[] => actions.map((action, i) => ({ action, position: i + 1 }));

/** `"{n}. {action.toText()}"`, numbered from 1 across every batch, newline-joined. */
export function formatNumbered(actions: readonly SlimAction[]): string {
  return renderNumbered(allLines(actions));
}

/** `[url]` headings with `  - {title}` lines; a new heading whenever the page changes. */
export function formatByPage(actions: readonly SlimAction[]): string {
  return renderByPage(allLines(actions));
}

export function formatActions(name: FormatterName, actions: readonly SlimAction[]): string {
  return render(name, allLines(actions));
}

/** The first `kept` actions split around one elision line: a third from the start, the rest (the latest) from the end. */
function withElision(actions: readonly SlimAction[], kept: number): Line[] {
  const head = Math.floor(kept / 3);
  const tailFrom = actions.length - (kept - head);
  return [
    ...actions.slice(0, head).map((action, i) => ({ action, position: i + 1 })),
    { elided: actions.slice(head, tailFrom) },
    ...actions.slice(tailFrom).map((action, i) => ({ action, position: tailFrom + i + 1 })),
  ];
}

/**
 * The same format within `maxChars`, deterministically:
 * 1. unchanged when it fits (so a prompt under the cap is exactly the SDK's);
 * 2. else every field is clipped (marked `…`) to the longest of `FIELD_LIMITS` that fits;
 * 3. else, with fields at the shortest limit, the middle of the window becomes one line saying how
 *    many actions were elided and of which types and pages; the first third and the latest two
 *    thirds of the actions that fit are kept, with their positions in the window.
 * A last clip guarantees the budget even for a degenerate case (a budget below one elision line).
 */
export function formatActionsWithin(name: FormatterName, actions: readonly SlimAction[], maxChars: number): string {
  const full = formatActions(name, actions);
  if (full.length <= maxChars) return full;
  let clipped: SlimAction[] = [];
  for (const limit of FIELD_LIMITS) {
    clipped = actions.map((a) => clipFields(a, limit));
    const text = formatActions(name, clipped);
    if (text.length <= maxChars) return text;
  }
  // Largest number of kept actions whose rendering fits (length grows with it, so bisect).
  let low = 0;
  let high = clipped.length - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (render(name, withElision(clipped, mid)).length <= maxChars) low = mid;
    else high = mid - 1;
  }
  return clip(render(name, withElision(clipped, low)), maxChars);
}
