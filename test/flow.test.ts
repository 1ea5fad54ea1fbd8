import { describe, expect, it } from "vitest";
import { batch, getState, postActions, request, sessionPath, settle, auth, uniqueSession } from "./helpers/api";

describe("end to end on the store destination with the extractive summariser", () => {
  it("25 actions in batches of 5 with K=10 close two windows, post their summaries and redact covered raw notes", async () => {
    const s = uniqueSession();
    for (let i = 0; i < 25; i += 5) {
      const res = await postActions(batch("p1", s, i, 5));
      expect(res.status).toBe(202);
      await settle("p1", s);
    }
    const { status, body } = await getState("p1", s);
    expect(status).toBe(200);
    expect(body.counters.actions_accepted).toBe(25);
    expect(body.counters.summaries).toBe(2);
    expect(body.counters.raw_notes_posted).toBe(5);
    expect(body.counters.redactions).toBeGreaterThanOrEqual(4);
    expect(body.open_window).toEqual({ id: 3, actions: 5 });
    const ctx = await request(sessionPath("p1", s, "/context"), { headers: auth });
    const text = ((await ctx.json()) as { context: string }).context;
    expect(text).toMatch(/^Summary: Extractive summary/);
    expect(text).toContain("User did thing 24");
    expect(text).not.toContain("User did thing 19 ");
  });
});
