import { describe, expect, it } from "vitest";
import { batch, getState, postActions, request, sessionPath, settle, sqlRows, auth, uniqueSession } from "./helpers/api";

describe("end to end on the store destination with the extractive summariser", () => {
  it("25 actions in batches of 5 with K=10 close two windows and summarise them; the store writes no notes, its rows are the context", async () => {
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
    // Nothing to deliver or redact: the session's own rows are what the context route reads.
    expect(body.counters).toMatchObject({ raw_notes_posted: 0, summary_notes_posted: 0, redactions: 0 });
    expect(body.notes).toEqual([]);
    expect(body.windows).toMatchObject({ unsummarised: 0, unposted: 0, covered_through: 2 });
    expect(body.open_window).toEqual({ id: 3, actions: 5 });
    // Covered batches are gone: what is left is the open window's batch and the covering summary.
    expect(body.storage.rows).toBe(3);
    const ctx = await request(sessionPath("p1", s, "/context"), { headers: auth });
    const text = ((await ctx.json()) as { context: string }).context;
    expect(text).toMatch(/^Summary: Extractive summary/);
    expect(text).toContain("User did thing 24");
    expect(text).not.toContain("User did thing 19 ");
  });

  it("keeps an open window's batches as one row, extended in place, actions in arrival order", async () => {
    const s = uniqueSession();
    for (let i = 0; i < 9; i += 3) {
      expect((await postActions(batch("p1", s, i, 3))).status).toBe(202);
      await settle("p1", s);
    }
    const { body } = await getState("p1", s);
    expect(body.counters).toMatchObject({ actions_accepted: 9, batches_accepted: 3 });
    expect(body.storage.rows).toBe(2); // the session row and the open window's one batch row
    expect(body.backlog.actions).toBe(9);
    const ctx = await request(sessionPath("p1", s, "/context"), { headers: auth });
    const text = ((await ctx.json()) as { context: string }).context;
    expect([...text.matchAll(/User did thing (\d+)/g)].map((m) => Number(m[1]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("counts every batch of the open window while they wait in its row, through a user id arriving mid-window, a flush and the next window", async () => {
    const s = uniqueSession();
    const sessionRow = () => sqlRows<{ actions_accepted: number; user_id: string | null }>("p1", s, "SELECT actions_accepted, user_id FROM session");
    expect((await postActions(batch("p1", s, 0, 3))).status).toBe(202);
    const first = (await getState("p1", s)).body;
    expect((await postActions(batch("p1", s, 3, 2, { user_id: "u-mid" }))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 5));
    expect((await postActions(batch("p1", s, 5, 2))).status).toBe(202);
    let { body } = await getState("p1", s);
    expect(body.counters).toMatchObject({ actions_accepted: 7, batches_accepted: 3 });
    expect(body.open_window).toEqual({ id: 1, actions: 7 });
    expect(Date.parse(body.last_action_at)).toBeGreaterThan(Date.parse(first.last_action_at));
    // The session's row took only the user id: the batches' counts wait in the window's row.
    expect(await sessionRow()).toEqual([{ actions_accepted: 0, user_id: "u-mid" }]);

    expect((await request(sessionPath("p1", s, "/flush"), { method: "POST", headers: auth })).status).toBe(202);
    await settle("p1", s);
    expect((await postActions(batch("p1", s, 7, 4))).status).toBe(202);
    await settle("p1", s);
    ({ body } = await getState("p1", s));
    expect(body.counters).toMatchObject({ actions_accepted: 11, batches_accepted: 4, summaries: 1 });
    expect(body.open_window).toEqual({ id: 2, actions: 4 });
    expect(body.windows).toMatchObject({ closed: 1, unsummarised: 0, covered_through: 1 });
    expect(await sessionRow()).toEqual([{ actions_accepted: 7, user_id: "u-mid" }]);
    // Ten more close the next window: its summary covers exactly its actions.
    expect((await postActions(batch("p1", s, 11, 6))).status).toBe(202);
    await settle("p1", s);
    ({ body } = await getState("p1", s));
    expect(body.counters).toMatchObject({ actions_accepted: 17, batches_accepted: 5, summaries: 2 });
    expect(body.open_window).toEqual({ id: 3, actions: 0 });
    expect(body.latest_summary).toMatchObject({ window: 2 });
    expect(await sqlRows("p1", s, "SELECT id, action_count FROM windows")).toEqual([{ id: 2, action_count: 10 }]);
  });
});
