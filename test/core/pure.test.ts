import { describe, expect, it } from "vitest";
import { ConfigError, need, parseConfig, parseCore } from "../../src/config";
import { extractiveSummary } from "../../src/llm/extractive";
import { backoffMs, nextAttempt, PARKED_RETRY_CAP_MS, PARKED_RETRY_MS } from "../../src/session/backoff";
import { composeContext, enrich } from "../../src/session/context";
import { formatActions, formatByPage, formatNumbered } from "../../src/session/format";
import { actionsPayloadFromDict } from "../../src/session/model";
import { backlogRetryAfterMs, exceedsBound, footprintOf, hasRoom } from "../../src/session/backlog";
import { computeNextAlarm, deliverDueAt, expiresAt, LINK_ONLY_RETENTION_MS, planNextStep, planRunner, REDACT_AHEAD_AT, type LaneInput, type PlanInput } from "../../src/session/plan";
import { buildPrompt, DEFAULT_PROMPT, windowsThatFit } from "../../src/session/prompt";
import { checkSummary, MAX_SUMMARY_CHARS } from "../../src/session/summaryGate";

const actions = actionsPayloadFromDict({
  actions: [
    { title: "Open billing", description: "User opened billing", canonical_url: "/billing", type: "pageview" },
    { title: "Click Upgrade", description: "User clicked Upgrade", canonical_url: "/billing", type: "click", index: 1 },
    { title: "Search", description: "User searched", canonical_url: "/search", type: "change", index: 2 },
  ],
}).actions;

const lane = (over: Partial<LaneInput> = {}): LaneInput => ({ id: 1, canPost: true, pending: null, inflightRawNote: null, nextToPost: null, nextToRedact: null, redactable: 0, ...over });

/** A session with one destination lane (`laneOver`), or none (`null`: the store only). */
function input(over: Partial<PlanInput> = {}, laneOver: Partial<LaneInput> | null = {}): PlanInput {
  return {
    now: 1_000_000,
    debounceMs: 0,
    debounceMaxMs: 5_000,
    lanes: laneOver === null ? [] : [lane(laneOver)],
    flushAt: null,
    nextToSummarise: null,
    llmBlockedUntil: null,
    idleCloseAt: null,
    expireAt: null,
    steps: new Map(),
    ...over,
  };
}

describe("formatters and prompt (SDK parity)", () => {
  it("numbers actions from 1 across batches, as the SDK's default formatter does", () => {
    expect(formatNumbered(actions)).toBe(
      "1. [0] pageview: User opened billing \u2014 /billing\n2. [1] click: User clicked Upgrade \u2014 /billing\n3. [2] change: User searched \u2014 /search",
    );
    expect(formatNumbered([])).toBe("");
  });

  it("groups by page under [url] headings (the seed's Intercom formatter)", () => {
    expect(formatByPage(actions)).toBe("[/billing]\n  - Open billing\n  - Click Upgrade\n\n[/search]\n  - Search");
  });

  it("fills {actions} in the SDK's default prompt; rolling mode puts the previous summary first", () => {
    const independent = buildPrompt({ template: DEFAULT_PROMPT, actionsText: "1. x", previousSummary: "old", mode: "independent" });
    expect(independent).toContain("Actions:\n1. x\n\nSummary:");
    expect(independent).not.toContain("old");
    const rolling = buildPrompt({ template: DEFAULT_PROMPT, actionsText: "1. x", previousSummary: "They set up billing.", mode: "rolling" });
    expect(rolling.indexOf("They set up billing.")).toBeLessThan(rolling.indexOf("Actions:"));
  });

  it("leaves other braces alone, so a template with literal JSON still works", () => {
    expect(buildPrompt({ template: 'Return {"a":1} for {actions}', actionsText: "A", previousSummary: null, mode: "rolling" })).toBe('Return {"a":1} for A');
  });
});

describe("catch-up: windows one prompt takes", () => {
  const input = { template: DEFAULT_PROMPT, formatter: "numbered" as const, previousSummary: null, mode: "rolling" as const };
  const exact = (n: number) => buildPrompt({ template: DEFAULT_PROMPT, actionsText: formatActions("numbered", Array.from({ length: n }, () => actions).flat()), previousSummary: null, mode: "rolling" }).length;

  it("takes every waiting window whose actions fit the cap whole, and always the first", () => {
    const windows = [actions, actions, actions, actions];
    expect(windowsThatFit(windows, { ...input, maxChars: exact(4) })).toBe(4);
    expect(windowsThatFit(windows, { ...input, maxChars: exact(3) })).toBe(3);
    expect(windowsThatFit(windows, { ...input, maxChars: exact(2) - 1 })).toBe(1);
    expect(windowsThatFit([], { ...input, maxChars: 1_000 })).toBe(0);
  });
});

describe("summary gate", () => {
  it.each([
    ["", "summary is empty"],
    ["   \n", "summary is empty"],
    ["Error: upstream model overloaded", "looks like an error"],
    ["I'm sorry, I can't help with that.", "looks like an error"],
    ["Rate limit exceeded", "looks like an error"],
    ["undefined", "looks like an error"],
    ["x".repeat(MAX_SUMMARY_CHARS + 1), "over the limit"],
  ])("rejects %j", (text, reason) => {
    const verdict = checkSummary(text);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toContain(reason);
  });

  it("accepts a real summary, even one that mentions errors or rate limits", () => {
    expect(checkSummary("  The user opened the rate limit settings and hit an error on export.  ")).toEqual({
      ok: true,
      summary: "The user opened the rate limit settings and hit an error on export.",
    });
  });

  it("the extractive summariser says what it is and stays bounded however long the session", () => {
    let previous: string | null = null;
    for (let i = 0; i < 50; i++) previous = extractiveSummary({ prompt: "", actions, previousSummary: previous });
    expect(previous).toMatch(/^Extractive summary \(no LLM configured\) of 3 actions\. Pages: \/billing, \/search\./);
    expect(checkSummary(previous).ok).toBe(true);
  });
});

describe("plan", () => {
  it("is idle with nothing to do, and waits for the debounce of pending batches", () => {
    expect(planNextStep(input())).toEqual({ kind: "idle" });
    const pending = input({ debounceMs: 200 }, { pending: { firstAt: 999_900, lastAt: 999_950, window: 1 } });
    expect(planNextStep(pending)).toEqual({ kind: "wait", until: 1_000_150 });
    expect(computeNextAlarm(pending)).toBe(1_000_150);
  });

  it("caps the debounce so a steady stream cannot defer delivery past DEBOUNCE_MAX_MS", () => {
    expect(deliverDueAt({ pending: { firstAt: 0, lastAt: 999_999, window: 1 }, debounceMs: 200, debounceMaxMs: 5_000, flushAt: null })).toBe(5_000);
    expect(deliverDueAt({ pending: { firstAt: 10, lastAt: 20, window: 1 }, debounceMs: 200, debounceMaxMs: 5_000, flushAt: 15 })).toBe(10);
  });

  it("runs the destination lane in order: resume an in-flight note before anything else", () => {
    const plan = planNextStep(input({}, { inflightRawNote: 4, nextToPost: 2, nextToRedact: 1, pending: { firstAt: 0, lastAt: 0, window: 1 } }));
    expect(plan).toEqual({ kind: "run", step: { kind: "deliver", key: "deliver:4", lane: 1, noteId: 4 } });
  });

  it("a destination step in backoff holds the destination lane, not the LLM lane", () => {
    const steps = new Map([["post:1:2", { attempts: 2, nextAttemptAt: 1_005_000, parked: false }]]);
    const plan = planNextStep(input({ nextToSummarise: 3, steps }, { nextToPost: 2, nextToRedact: 1 }));
    expect(plan).toEqual({ kind: "run", step: { kind: "summarise", key: "summarise:3", window: 3 } });
    expect(planNextStep(input({ steps }, { nextToPost: 2, nextToRedact: 1 }))).toEqual({ kind: "wait", until: 1_005_000 });
  });

  it("a lane in backoff holds only itself: another destination's lane runs its own steps", () => {
    const steps = new Map([["post:1:2", { attempts: 3, nextAttemptAt: 1_060_000, parked: false }]]);
    const two = input({ steps, lanes: [lane({ nextToPost: 2, nextToRedact: 5 }), lane({ id: 2, nextToPost: 2 })] });
    expect(planNextStep(two)).toEqual({ kind: "run", step: { kind: "post-summary", key: "post:2:2", lane: 2, window: 2 } });
    expect(planRunner(two, 1)).toEqual({ kind: "wait", until: 1_060_000 });
    expect(planRunner(two, 2)).toEqual({ kind: "run", step: { kind: "post-summary", key: "post:2:2", lane: 2, window: 2 } });
    expect(planRunner(two, "llm")).toEqual({ kind: "idle" });
  });

  it("a debouncing delivery does not hold back a due redaction", () => {
    const plan = planNextStep(input({ debounceMs: 500 }, { pending: { firstAt: 999_990, lastAt: 999_990, window: 1 }, nextToRedact: 7 }));
    expect(plan).toEqual({ kind: "run", step: { kind: "redact", key: "redact:7", lane: 1, noteId: 7 } });
  });

  it("redacts ahead of a due delivery once REDACT_AHEAD_AT covered notes wait, unless that redaction is in backoff", () => {
    const streaming = { pending: { firstAt: 999_000, lastAt: 1_000_000, window: 9 }, nextToPost: 3, nextToRedact: 7 };
    const deliver = { kind: "run", step: { kind: "deliver", key: "deliver:1:new", lane: 1, noteId: null } };
    expect(planNextStep(input({}, { ...streaming, redactable: REDACT_AHEAD_AT - 1 }))).toEqual(deliver);
    expect(planNextStep(input({}, { ...streaming, redactable: REDACT_AHEAD_AT }))).toEqual({ kind: "run", step: { kind: "redact", key: "redact:7", lane: 1, noteId: 7 } });
    // An in-flight raw note still resumes first, and a failing redaction never holds back new actions.
    expect(planNextStep(input({}, { ...streaming, redactable: 50, inflightRawNote: 8 }))).toEqual({ kind: "run", step: { kind: "deliver", key: "deliver:8", lane: 1, noteId: 8 } });
    const steps = new Map([["redact:7", { attempts: 2, nextAttemptAt: 1_030_000, parked: false }]]);
    expect(planNextStep(input({ steps }, { ...streaming, redactable: 50 }))).toEqual(deliver);
  });

  it("posts a summary only after the raw notes of its windows, and lets one of an earlier window pass a debounce", () => {
    const pending = { firstAt: 999_990, lastAt: 999_990, window: 2 };
    expect(planNextStep(input({ debounceMs: 500 }, { pending, nextToPost: 2 }))).toEqual({ kind: "wait", until: 1_000_490 });
    expect(planNextStep(input({ debounceMs: 500 }, { pending, nextToPost: 1 }))).toEqual({ kind: "run", step: { kind: "post-summary", key: "post:1:1", lane: 1, window: 1 } });
  });

  it("holds summaries while the LLM breaker is open, and wakes when it lets a probe through", () => {
    expect(planNextStep(input({ nextToSummarise: 1, llmBlockedUntil: 1_060_000 }))).toEqual({ kind: "wait", until: 1_060_000 });
  });

  it("with no lane (the store only) nothing is delivered or posted: only summaries run", () => {
    expect(planNextStep(input({}, null))).toEqual({ kind: "idle" });
    expect(planNextStep(input({ nextToSummarise: 2 }, null))).toEqual({ kind: "run", step: { kind: "summarise", key: "summarise:2", window: 2 } });
  });

  it("nothing goes out before a link when the destination needs one", () => {
    expect(planNextStep(input({}, { canPost: false, pending: { firstAt: 0, lastAt: 0, window: 1 }, nextToPost: 1 }))).toEqual({ kind: "idle" });
  });

  it("closes an idle window, and expires a session past retention before anything else", () => {
    expect(planNextStep(input({ idleCloseAt: 1_000_000 }))).toEqual({ kind: "run", step: { kind: "close-idle", key: "close-idle" } });
    expect(planNextStep(input({ expireAt: 999_999 }, { nextToRedact: 1 }))).toEqual({ kind: "run", step: { kind: "expire", key: "expire" } });
  });

  it("expires a session that only ever received a link within a day of its creation, one with actions after retention", () => {
    const week = 7 * 24 * 3_600_000;
    expect(LINK_ONLY_RETENTION_MS).toBe(24 * 3_600_000);
    expect(expiresAt({ createdAt: 1_000, lastActionAt: 1_000, actionsAccepted: 0 }, week)).toBe(1_000 + LINK_ONLY_RETENTION_MS);
    expect(expiresAt({ createdAt: 1_000, lastActionAt: 5_000, actionsAccepted: 3 }, week)).toBe(5_000 + week);
    // Never later than the retention, when that is set shorter than a day.
    expect(expiresAt({ createdAt: 1_000, lastActionAt: 1_000, actionsAccepted: 0 }, 60_000)).toBe(61_000);
  });
});

describe("backlog bound", () => {
  const limits = { maxPendingActions: 2_000, maxPendingBytes: 4 * 1024 * 1024 };

  it("measures a batch as stored: its actions and their UTF-8 JSON bytes", () => {
    expect(footprintOf([])).toEqual({ actions: 0, bytes: 0 });
    expect(footprintOf(actions)).toEqual({ actions: 3, bytes: new TextEncoder().encode(JSON.stringify(actions)).byteLength });
  });

  it("has room while the backlog plus the batch stays within both bounds; an empty batch always fits", () => {
    expect(hasRoom({ actions: 1_500, bytes: 0 }, { actions: 500, bytes: 0 }, limits)).toBe(true);
    expect(hasRoom({ actions: 1_501, bytes: 0 }, { actions: 500, bytes: 0 }, limits)).toBe(false);
    expect(hasRoom({ actions: 10, bytes: 4 * 1024 * 1024 }, { actions: 1, bytes: 1 }, limits)).toBe(false);
    expect(hasRoom({ actions: 5_000, bytes: 0 }, { actions: 0, bytes: 0 }, limits)).toBe(true);
    expect(exceedsBound({ actions: 50_000, bytes: 150_000 }, limits)).toBe(true);
  });

  it("defaults to 2,000 actions and 4 MiB, and never below what one batch can hold", () => {
    expect(parseCore({})).toMatchObject({ maxPendingActions: 2_000, maxPendingBytes: 4 * 1024 * 1024 });
    expect(parseCore({ SESSION_MAX_PENDING_ACTIONS: "1000", SESSION_MAX_PENDING_BYTES: "2097152" })).toMatchObject({ maxPendingActions: 1_000 });
    expect(() => parseCore({ SESSION_MAX_PENDING_ACTIONS: "999" })).toThrow(/SESSION_MAX_PENDING_ACTIONS must be an integer from 1000/);
    expect(() => parseCore({ SESSION_MAX_PENDING_BYTES: "1048576" })).toThrow(/SESSION_MAX_PENDING_BYTES must be an integer from 2097152/);
  });

  it("asks a refused sender to wait until the next alarm, from 5 s to 60 s", () => {
    expect(backlogRetryAfterMs(null, 0)).toBe(5_000);
    expect(backlogRetryAfterMs(0, 0)).toBe(5_000);
    expect(backlogRetryAfterMs(20_000, 0)).toBe(20_000);
    expect(backlogRetryAfterMs(3_600_000, 0)).toBe(60_000);
  });
});

describe("backoff", () => {
  it("doubles from 2 s with jitter, is floored by Retry-After and capped at 10 min", () => {
    expect(backoffMs(1, 0)).toBe(1_000);
    expect(backoffMs(1, 1)).toBe(2_000);
    expect(backoffMs(3, 1)).toBe(8_000);
    expect(backoffMs(30, 1)).toBe(600_000);
    expect(backoffMs(1, 0, 30_000)).toBe(30_000);
  });

  it("parks after the last attempt or at once on a permanent error", () => {
    const failure = { maxAttempts: 8, permanent: false, now: 0, random: 0.5, parkedSince: null };
    expect(nextAttempt({ ...failure, attempts: 8 })).toEqual({ nextAttemptAt: PARKED_RETRY_MS, parked: true });
    expect(nextAttempt({ ...failure, attempts: 1, permanent: true }).parked).toBe(true);
    expect(nextAttempt({ ...failure, attempts: 7 }).parked).toBe(false);
  });

  it("probes a parked step after an hour, then after as long as it has been parked, at most a day apart", () => {
    const probe = (parkedSince: number, now: number) => nextAttempt({ attempts: 9, maxAttempts: 8, permanent: false, now, random: 0.5, parkedSince }).nextAttemptAt;
    const HOUR = 3_600_000;
    const times: number[] = [];
    let at = HOUR; // first probe an hour after parking at 0
    while (at < 7 * 24 * HOUR) {
      times.push(at / HOUR);
      at = probe(0, at);
    }
    expect(times).toEqual([1, 2, 4, 8, 16, 32, 56, 80, 104, 128, 152]);
    expect(probe(0, 0)).toBe(PARKED_RETRY_MS);
    expect(probe(0, 100 * HOUR)).toBe(100 * HOUR + PARKED_RETRY_CAP_MS);
  });
});

describe("context and config", () => {
  it("formats context as the SDK's ContextStore and enrich() do", () => {
    expect(composeContext("S", "1. a")).toBe("Summary: S\n\nRecent activity:\n1. a");
    expect(composeContext(null, "")).toBe("");
    expect(enrich("", "q")).toBe("q");
    expect(enrich("ctx", "q")).toBe("[Session context]\nctx\n\n[Query]\nq");
  });

  it("defaults to rolling summaries every 10 actions, extractive without an LLM key", () => {
    const config = parseConfig({});
    const c = need(config.core);
    expect(c).toMatchObject({ threshold: 10, mode: "rolling", debounceMs: 0, formatter: "numbered" });
    expect(config.destination).toEqual({ kind: "store" });
    expect(c.llm).toMatchObject({ model: "gpt-4o-mini", temperature: 0.3, maxTokens: 256, apiKey: null, baseURL: null });
    expect(parseCore({ OPENAI_API_KEY: "k" }).llm.apiKey).toBe("k");
  });

  it.each([
    [{ SUMMARY_THRESHOLD: "0" }, /SUMMARY_THRESHOLD must be an integer from 1/],
    [{ SUMMARY_MODE: "rolled" }, /SUMMARY_MODE must be one of rolling, independent/],
    [{ SUMMARY_PROMPT: "no placeholder" }, /must contain the placeholder "\{actions\}"/],
    [{ DEBOUNCE_MS: "soon" }, /DEBOUNCE_MS must be an integer/],
    [{ PRE_LINK_WINDOW_MS: "2m" }, /PRE_LINK_WINDOW_MS must be an integer/],
  ])("names the setting when %j is unusable", (env, message) => {
    expect(() => parseCore(env)).toThrow(ConfigError);
    expect(() => parseCore(env)).toThrow(message);
  });
});
