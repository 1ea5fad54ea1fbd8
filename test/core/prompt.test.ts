import { describe, expect, it } from "vitest";
import { ConfigError, parseCore } from "../../src/config";
import { extractiveSummary } from "../../src/llm/extractive";
import { formatActions, formatActionsWithin, type FormatterName } from "../../src/session/format";
import { slimActionFromDict, type SlimAction } from "../../src/session/model";
import { boundedPrompt, buildPrompt, DEFAULT_PROMPT, type SummaryMode } from "../../src/session/prompt";
import { checkSummary, MAX_SUMMARY_CHARS } from "../../src/session/summaryGate";

function actionsOf(count: number, descriptionChars: number, urlChars = 30): SlimAction[] {
  return Array.from({ length: count }, (_, i) =>
    slimActionFromDict({
      title: `Action ${i}`,
      description: `did ${i} `.padEnd(descriptionChars, "d"),
      canonical_url: `https://app.example.com/${i % 4}/`.padEnd(urlChars, "u"),
      type: i % 5 === 0 ? "pageview" : "click",
      index: i,
    }),
  );
}

const FORMATS: FormatterName[] = ["numbered", "by-page"];
const MODES: SummaryMode[] = ["rolling", "independent"];
const promptOf = (actions: SlimAction[], over: { formatter?: FormatterName; mode?: SummaryMode; previousSummary?: string | null; maxChars?: number; template?: string } = {}) =>
  boundedPrompt({ template: DEFAULT_PROMPT, actions, formatter: "numbered", previousSummary: null, mode: "rolling", maxChars: 20_000, ...over });

describe("boundedPrompt", () => {
  it.each(FORMATS.flatMap((f) => MODES.map((m) => [f, m] as const)))("is the exact SDK prompt under the cap (%s, %s)", (formatter, mode) => {
    const actions = actionsOf(10, 80);
    const exact = buildPrompt({ template: DEFAULT_PROMPT, actionsText: formatActions(formatter, actions), previousSummary: "Earlier.", mode });
    expect(promptOf(actions, { formatter, mode, previousSummary: "Earlier." })).toBe(exact);
  });

  it.each(FORMATS)("250 actions with 4 KB descriptions and a 4,000-character previous summary stay within the cap (%s)", (formatter) => {
    const actions = actionsOf(250, 4_000, 2_048);
    const previousSummary = "p".repeat(MAX_SUMMARY_CHARS);
    const prompt = promptOf(actions, { formatter, previousSummary });
    expect(prompt.length).toBeLessThanOrEqual(20_000);
    expect(prompt).toContain(previousSummary); // the previous summary fits whole: it is not what gets cut
    expect(prompt).toMatch(/\u2026 \d+ actions elided \(types: click \u00d7\d+, pageview \u00d7\d+; pages: /);
    expect(prompt.endsWith("\n\nSummary:")).toBe(true);
    expect(promptOf(actions, { formatter, previousSummary })).toBe(prompt); // deterministic
  });

  it("keeps the first third and the latest actions with their window positions around one elision line", () => {
    const text = formatActionsWithin("numbered", actionsOf(250, 4_000), 10_000);
    const positions = [...text.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
    const elided = Number(/\u2026 (\d+) actions elided/.exec(text)![1]);
    expect(positions.length + elided).toBe(250);
    expect(positions[0]).toBe(1);
    expect(positions.at(-1)).toBe(250);
    const gap = positions.findIndex((p, i) => i > 0 && p !== positions[i - 1]! + 1);
    expect(positions[gap]! - positions[gap - 1]! - 1).toBe(elided);
    expect(gap).toBe(Math.floor(positions.length / 3));
  });

  it("clips long fields (marked …) before it elides any action", () => {
    const text = formatActionsWithin("numbered", actionsOf(12, 4_000), 15_000);
    expect(text.length).toBeLessThanOrEqual(15_000);
    expect(text).not.toContain("elided");
    expect(text.match(/^\d+\. \[\d+\] /gm)).toHaveLength(12);
    expect(text).toContain("d\u2026 \u2014 ");
  });

  it("counts every {actions} of a custom template and clips a previous summary that would crowd the actions out", () => {
    const template = `${"t".repeat(1_000)} {actions} and again {actions}`;
    const actions = actionsOf(100, 500);
    const prompt = promptOf(actions, { template, previousSummary: "p".repeat(MAX_SUMMARY_CHARS), maxChars: 4_500 });
    expect(prompt.length).toBeLessThanOrEqual(4_500);
    expect(prompt.match(/actions elided/g)).toHaveLength(2);
    expect(prompt).toContain("p\u2026\n\n");
  });

  it("never exceeds the cap for random windows, caps, formats and modes", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 100; i++) {
      const maxChars = 2_000 + rand(40_000);
      const actions = actionsOf(1 + rand(300), 1 + rand(4_000), 10 + rand(2_048));
      const previousSummary = rand(2) ? "s".repeat(rand(MAX_SUMMARY_CHARS)) : null;
      const prompt = promptOf(actions, { formatter: FORMATS[rand(2)], mode: MODES[rand(2)], previousSummary, maxChars });
      expect(prompt.length).toBeLessThanOrEqual(maxChars);
      expect(prompt).toContain("Summary:");
    }
  });
});

describe("SUMMARY_MAX_PROMPT_CHARS", () => {
  it("defaults to 20,000 and refuses a cap that leaves a template's {actions} under 1,000 characters each", () => {
    expect(parseCore({}).maxPromptChars).toBe(20_000);
    expect(parseCore({ SUMMARY_MAX_PROMPT_CHARS: "8000" }).maxPromptChars).toBe(8_000);
    expect(() => parseCore({ SUMMARY_MAX_PROMPT_CHARS: "1999" })).toThrow(ConfigError);
    expect(() => parseCore({ SUMMARY_MAX_PROMPT_CHARS: "2000", SUMMARY_PROMPT: `${"t".repeat(1_500)} {actions}` })).toThrow(
      /must leave at least 1000 characters for each \{actions\}/,
    );
  });
});

describe("the extractive fallback", () => {
  it("says why it is extractive, stays under the summary gate with long URLs, and a rolling one drops the earlier header", () => {
    const actions = actionsOf(20, 4_000, 2_048);
    const first = extractiveSummary({ prompt: "", actions, previousSummary: null }, "LLM answered 400 context_length_exceeded");
    expect(first).toMatch(/^Extractive summary \(LLM answered 400 context_length_exceeded\) of 20 actions\. Pages: /);
    expect(checkSummary(first).ok).toBe(true);
    const next = extractiveSummary({ prompt: "", actions, previousSummary: first });
    expect(next.match(/Extractive summary/g)).toHaveLength(1);
    expect(checkSummary(next).ok).toBe(true);
  });
});
