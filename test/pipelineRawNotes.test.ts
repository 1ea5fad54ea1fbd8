/**
 * Raw notes as the SDK's `to_text()` writes them without a debounce: each action keeps the index it
 * arrived with (its position in the session), and a missing index reads as 0 (`from_dict`). Raw
 * notes go to outbound destinations (the store has none: its rows are the context), so this runs
 * against the webhook of the fake world.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { action, batch, postActions, settle, sqlRows, uniqueSession } from "./helpers/api";
import { installWorld } from "./helpers/world";

const P = "raw-notes";
let installed: ReturnType<typeof installWorld>;

beforeEach(() => {
  installed = installWorld();
});
afterEach(() => {
  installed.restore();
  expect(installed.world.violations).toEqual([]);
});

async function ingest(session: string, body: unknown): Promise<void> {
  expect((await postActions(body)).status).toBe(202);
  await settle(P, session);
}

async function rawNoteBodies(session: string): Promise<string[]> {
  const rows = await sqlRows<{ body: string }>(P, session, "SELECT body FROM notes WHERE kind = 'raw' ORDER BY id");
  return rows.map((r) => r.body);
}

describe("raw notes keep the wire index (DEBOUNCE_MS=0)", () => {
  it("the second note of a session numbers its actions [3] and [4], as they arrived", async () => {
    const s = uniqueSession();
    await ingest(s, batch(P, s, 0, 3));
    await ingest(s, batch(P, s, 3, 2));
    const [first, second] = await rawNoteBodies(s);
    expect(first!.split("\n")).toEqual([
      `Session ${s} \u2014 3 actions`,
      "[0] click: User did thing 0 \u2014 https://app.example.com/page/0",
      "[1] click: User did thing 1 \u2014 https://app.example.com/page/1",
      "[2] click: User did thing 2 \u2014 https://app.example.com/page/2",
    ]);
    expect(second!.split("\n")).toEqual([
      `Session ${s} \u2014 2 actions`,
      "[3] click: User did thing 3 \u2014 https://app.example.com/page/0",
      "[4] click: User did thing 4 \u2014 https://app.example.com/page/1",
    ]);
  });

  it("an action sent without an index reads as [0], the SDK's default", async () => {
    const s = uniqueSession();
    await ingest(s, { product_id: P, session_id: s, actions: [action(7, { index: undefined }), action(8)] });
    expect((await rawNoteBodies(s))[0]!.split("\n").slice(1)).toEqual([
      "[0] click: User did thing 7 \u2014 https://app.example.com/page/1",
      "[8] click: User did thing 8 \u2014 https://app.example.com/page/2",
    ]);
  });
});
