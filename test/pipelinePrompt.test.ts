/**
 * Prompts bounded by SUMMARY_MAX_PROMPT_CHARS whatever the batch sizes, and a window the LLM
 * refuses outright (400 context_length_exceeded) summarised extractively instead of parking:
 * against the webhook destination and the LLM of the fake world.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { action, getState, postActions, settle, uniqueSession } from "./helpers/api";
import { installWorld } from "./helpers/world";
import type { World } from "./world";

const P = "prompt";
/** The default SUMMARY_MAX_PROMPT_CHARS (the pipeline bindings leave it unset). */
const CAP = 20_000;
let world: World;
let restore: () => void;

beforeEach(() => {
  ({ world, restore } = installWorld());
});
afterEach(() => restore());

function longBatch(session: string, from: number, count: number, descriptionChars: number) {
  const actions = Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return action(n, { description: `User did thing ${n} `.padEnd(descriptionChars, "x") });
  });
  return { type: "actions", product_id: P, session_id: session, actions };
}

describe("bounded prompts", () => {
  it("one batch of 250 actions with 4 KB descriptions gives a prompt within the cap that says what was elided", { timeout: 30_000 }, async () => {
    const s = uniqueSession();
    expect((await postActions(longBatch(s, 0, 250, 3_900))).status).toBe(202);
    await settle(P, s);
    expect(world.llm.prompts).toHaveLength(1);
    const prompt = world.llm.prompts[0]!;
    expect(prompt.length).toBeLessThanOrEqual(CAP);
    // The first and the latest actions are kept with their positions; the middle is one counted line.
    expect(prompt).toMatch(/^1\. \[0\] click: User did thing 0 x+\u2026 \u2014 /m);
    expect(prompt).toMatch(/^250\. \[249\] click: User did thing 249 /m);
    const elided = Number(/\u2026 (\d+) actions elided \(types: click \u00d7\1; pages: /.exec(prompt)?.[1]);
    expect(elided).toBeGreaterThan(0);
    expect(prompt.match(/^\d+\. \[/gm)).toHaveLength(250 - elided);
    const { body } = await getState(P, s);
    expect(body.latest_summary).toMatchObject({ extractive: false, fallback: null });
    expect(world.receiver.live().map((n) => n.type)).toEqual(["context.summary"]);
  });
});

describe("an LLM that refuses the window's request", () => {
  it("400 context_length_exceeded: a marked extractive summary is posted, then the raw note redacted; the next window uses the LLM again", async () => {
    const s = uniqueSession();
    world.llm.contextChars = 500; // a model smaller than the configured cap
    expect((await postActions(longBatch(s, 0, 10, 200))).status).toBe(202);
    await settle(P, s);
    let { body } = await getState(P, s);
    expect(body.step).toBeNull();
    expect(body.latest_summary).toMatchObject({ window: 1, extractive: true, fallback: "llm_rejected_request" });
    expect(body.latest_summary.text).toMatch(/^Extractive summary \(LLM answered 400 context_length_exceeded\) of 10 actions\. /);
    expect(body.counters).toMatchObject({ llm_calls: 1, llm_failures: 1, summaries: 1, redactions: 1 });
    // Summary first: the summary was posted before the raw note it covers was redacted.
    const kinds = world.events.filter((e) => e.kind !== "llm").map((e) => (e.kind === "post" ? e.type : e.kind));
    expect(kinds).toEqual(["context.raw_note", "context.summary", "redact"]);
    expect(world.receiver.live().map((n) => n.type)).toEqual(["context.summary"]);

    world.llm.contextChars = Infinity;
    expect((await postActions(longBatch(s, 10, 10, 50))).status).toBe(202);
    await settle(P, s);
    ({ body } = await getState(P, s));
    expect(world.llm.prompts[1]).toContain("Extractive summary (LLM answered 400 context_length_exceeded) of 10 actions.");
    expect(body.latest_summary).toMatchObject({ window: 2, extractive: false, fallback: null });
    expect(body.latest_summary.text).toMatch(/^Summary #2/);
  });
});
