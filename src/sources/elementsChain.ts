/**
 * @module
 * PostHog's autocapture `elements_chain` (and posthog-js's raw `$elements` array) read into
 * elements, and from them the thing a person acted on: its kind as a noun and the label they
 * would recognise (pure; no I/O).
 */
import { firstString, isObj } from "./common";

/** One element of an autocapture chain: tag, classes, and its attributes (`text`, `attr__href`, …). */
export interface ChainElement {
  tag: string;
  classes: string[];
  attrs: Record<string, string>;
}

/**
 * Parses PostHog's `elements_chain`: elements separated by ";" (clicked element first), each
 * `tag.class1.class2:key="value"key2="value"` with `\"` escaping quotes inside values. Classes
 * may contain ":" (Tailwind's "md:flex"), so attributes start at the first ":" followed by `key=`.
 */
export function parseElementsChain(chain: string): ChainElement[] {
  const elements: ChainElement[] = [];
  for (const part of splitOutsideQuotes(chain)) {
    // [\s\S], not ".": a chain may carry line breaks, and every part must match.
    const m = /^([\s\S]*?)(?:$|:([A-Za-z0-9_-]*=[\s\S]*))/.exec(part)!;
    const [tagAndId = "", ...classes] = (m[1] ?? "").split(".");
    // PostHog writes no "#id" in the tag, but hand-built chains (tests, other SDKs) sometimes do.
    const [tag = "", hashId] = tagAndId.split("#", 2);
    const attrs: Record<string, string> = hashId ? { attr__id: hashId } : {};
    for (const a of (m[2] ?? "").matchAll(/([^\s="]+)="((?:\\.|[^"\\])*)"/g)) {
      attrs[a[1]!] = a[2]!.replace(/\\"/g, '"');
    }
    elements.push({ tag: tag.toLowerCase(), classes: classes.filter(Boolean), attrs });
  }
  return elements;
}

function splitOutsideQuotes(chain: string): string[] {
  const parts: string[] = [];
  let current = "";
  let inQuotes = false;
  for (let i = 0; i < chain.length; i++) {
    const ch = chain[i]!;
    if (inQuotes && ch === "\\" && i + 1 < chain.length) {
      current += ch + chain[++i];
      continue;
    }
    if (ch === '"') inQuotes = !inQuotes;
    if (ch === ";" && !inQuotes) {
      if (current.trim()) parts.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** posthog-js's raw `$elements` array (before the server builds the chain) in chain form. */
export function elementsFromArray(list: unknown[]): ChainElement[] {
  return list.filter(isObj).map((e) => {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(e)) if (k.startsWith("attr__") && typeof v === "string") attrs[k] = v;
    const text = firstString(e.$el_text, e.text);
    if (text) attrs.text = text;
    const classes = Array.isArray(e.classes) ? e.classes.filter((c): c is string => typeof c === "string") : [];
    return { tag: (firstString(e.tag_name) ?? "").toLowerCase(), classes, attrs };
  });
}

const attr = (el: ChainElement | undefined, name: string): string | null => (el ? firstString(el.attrs[`attr__${name}`]) : null);
const elText = (el: ChainElement | undefined): string | null => (el ? firstString(el.attrs.text) : null);
const elHref = (el: ChainElement | undefined): string | null => (el ? firstString(el.attrs.attr__href, el.attrs.href) : null);
const elId = (el: ChainElement | undefined): string | null => (el ? firstString(el.attrs.attr__id, el.attrs.attr_id) : null);

const INTERACTIVE_TAGS = new Set(["a", "button", "input", "select", "textarea", "label", "summary", "option", "form"]);
const INTERACTIVE_ROLES: Record<string, string> = {
  button: "button",
  link: "link",
  tab: "tab",
  menuitem: "menu item",
  checkbox: "checkbox",
  switch: "toggle",
  radio: "radio button",
  option: "option",
  combobox: "dropdown",
  textbox: "field",
};
const BUTTON_INPUTS = new Set(["submit", "button", "reset", "image"]);

const roleNoun = (el: ChainElement): string | null => {
  const role = (attr(el, "role") ?? "").toLowerCase();
  return Object.hasOwn(INTERACTIVE_ROLES, role) ? INTERACTIVE_ROLES[role]! : null;
};

function isInteractive(el: ChainElement): boolean {
  return INTERACTIVE_TAGS.has(el.tag) || roleNoun(el) !== null;
}

function nounFor(el: ChainElement | undefined): string {
  if (!el) return "element";
  const byRole = roleNoun(el);
  if (byRole) return byRole;
  const inputType = (attr(el, "type") ?? "text").toLowerCase();
  switch (el.tag) {
    case "a":
      return "link";
    case "button":
      return "button";
    case "select":
      return "dropdown";
    case "textarea":
      return "field";
    case "form":
      return "form";
    case "label":
      return "label";
    case "summary":
      return "section toggle";
    case "option":
      return "option";
    case "img":
      return "image";
    case "svg":
    case "path":
    case "i":
      return "icon";
    case "input":
      if (BUTTON_INPUTS.has(inputType)) return "button";
      if (inputType === "checkbox") return "checkbox";
      if (inputType === "radio") return "radio button";
      if (inputType === "range") return "slider";
      if (inputType === "file") return "file picker";
      return "field";
    default:
      return "element";
  }
}

/** Values from the Hog flat payload that stand in for the chain when it is missing. */
export interface TargetHints {
  text: string | null;
  elementId: string | null;
  href: string | null;
  inputName: string | null;
}

export interface Target {
  noun: string;
  label: string | null;
  href: string | null;
}

/**
 * What was acted on: the nearest interactive element among the first few of the chain (a click on
 * the <span> inside a <button> is a click on the button), its kind as a noun, and the best label
 * a person would recognise: visible text first, then accessible names, then names and ids.
 * Input values are never used except on button-like inputs, where the value is the caption.
 */
export function describeTarget(elements: ChainElement[], text: string | null, hints: TargetHints): Target {
  const head = elements.slice(0, 5);
  const at = head.findIndex(isInteractive);
  const target = at >= 0 ? head[at] : head[0];
  const upTo = at >= 0 ? head.slice(0, at + 1) : head.slice(0, 1);
  const buttonValue = target?.tag === "input" && BUTTON_INPUTS.has((attr(target, "type") ?? "").toLowerCase()) ? attr(target, "value") : null;
  const label = firstString(
    text,
    ...upTo.map(elText),
    attr(target, "aria-label"),
    attr(target, "title"),
    buttonValue,
    ...upTo.map((e) => attr(e, "aria-label") ?? attr(e, "alt") ?? attr(e, "title")),
    attr(target, "name"),
    elId(target),
    attr(target, "placeholder"),
    attr(target, "data-testid"),
    hints.text,
    hints.inputName,
    hints.elementId,
  );
  const noun = target ? nounFor(target) : hints.href ? "link" : hints.inputName ? "field" : "element";
  return { noun, label, href: elHref(target) ?? hints.href };
}
