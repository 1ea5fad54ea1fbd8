/**
 * Raw notes under a debounce (DEBOUNCE_MS=200, K=10; see the "workers-debounce" project), held side
 * by side with the SDK's `AsyncAgentContextWriter(debounce_ms=200)`: every burst is written raw as
 * it happens, re-indexed from 0 the way `ActionsPayload.merge` does, even the burst that closes a
 * window; the summary follows, then the redactions.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { batch, getState, postActions, settle, uniqueSession } from "./helpers/api";
import { installWorld } from "./helpers/world";
import type { World } from "./world";

const P = "debounce";
const DEBOUNCE_MS = 200;
let world: World;
let restore: () => void;

beforeEach(() => {
  ({ world, restore } = installWorld());
});
afterEach(() => restore());

/** One burst: its batches back to back, well within the debounce. */
async function burst(session: string, from: number, sizes: number[]): Promise<void> {
  let n = from;
  for (const size of sizes) {
    expect((await postActions(batch(P, session, n, size))).status).toBe(202);
    n += size;
  }
}

/** Lets the debounce run out, then runs everything that is due. */
async function quiet(session: string): Promise<void> {
  await settle(P, session);
  await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS + 100));
  await settle(P, session);
}

const order = () => world.events.filter((e) => e.kind !== "llm").map((e) => `${e.kind}:${world.receiver.notes.get(e.id)!.type}`);
const rawTexts = () => [...world.receiver.notes.values()].filter((n) => n.type === "context.raw_note").map((n) => n.text.split("\n"));
const actionsIn = (lines: string[]) => lines.slice(1).map((l) => Number(/thing (\d+)/.exec(l)![1]));

describe("under debounce every burst is written raw as it happens", () => {
  it("bursts of 6, 2 and 3 actions give three raw writes, then the summary, then three redactions", async () => {
    const s = uniqueSession();
    await burst(s, 0, [4, 2]);
    await quiet(s);
    await burst(s, 6, [2]);
    await quiet(s);
    await burst(s, 8, [3]); // 11 actions: the window closes on this burst
    await quiet(s);

    expect(order()).toEqual([
      ...Array(3).fill("post:context.raw_note"),
      "post:context.summary",
      ...Array(3).fill("redact:context.raw_note"),
    ]);
    const [first, second, third] = rawTexts();
    // Two batches in one burst are merged into one note, re-indexed from 0 as the SDK's merge does.
    expect(first![0]).toBe(`Session ${s} \u2014 6 actions`);
    expect(first!.slice(1).map((l) => l.slice(0, 3))).toEqual(["[0]", "[1]", "[2]", "[3]", "[4]", "[5]"]);
    expect(second).toEqual([
      `Session ${s} \u2014 2 actions`,
      "[0] click: User did thing 6 \u2014 https://app.example.com/page/0",
      "[1] click: User did thing 7 \u2014 https://app.example.com/page/1",
    ]);
    expect(actionsIn(third!)).toEqual([8, 9, 10]);
    const { body } = await getState(P, s);
    expect(body.counters).toMatchObject({ raw_notes_posted: 3, summary_notes_posted: 1, redactions: 3 });
  });

  it("a burst that crosses K is written raw on both sides of the window boundary", async () => {
    const s = uniqueSession();
    await burst(s, 0, [8]);
    await quiet(s);
    await burst(s, 8, [3, 2]); // the batch of 3 closes window 1, the batch of 2 opens window 2
    await quiet(s);

    expect(rawTexts().map(actionsIn)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10], [11, 12]]);
    expect(order()).toEqual([
      ...Array(3).fill("post:context.raw_note"),
      "post:context.summary",
      ...Array(2).fill("redact:context.raw_note"),
    ]);
    expect(world.receiver.live({ type: "context.raw_note" }).map((n) => actionsIn(n.text.split("\n")))).toEqual([[11, 12]]);
  });
});
