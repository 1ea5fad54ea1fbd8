/**
 * What the session row no longer writes at once, on the real store (node:sqlite): a store session's
 * batch counts wait in its open window's row until the window closes, and the memory step's
 * progress rides on the session's next write, for its own incarnation only.
 */
import { describe, expect, it } from "vitest";
import { migrate } from "../../src/session/migrations";
import { SessionStore } from "../../src/session/sessionStore";
import { SUMMARY_ORIGIN } from "../../src/llm/types";
import { createNodeStorage } from "./support/nodeStorage";

const action = (i: number) => ({ title: `t${i}`, description: `did ${i}`, canonical_url: "/p", index: i, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null });
const actions = (from: number, n: number) => Array.from({ length: n }, (_, i) => action(from + i));
const identity = { user_id: null, email: null, link: null };

function setup() {
  const storage = createNodeStorage();
  migrate(storage);
  const store = new SessionStore(storage);
  store.createSession("p", "s", "e1", 0);
  const stored = () => storage.sql.exec<{ actions_accepted: number; batches_accepted: number; memorised_window: number; epoch: string }>("SELECT * FROM session").toArray()[0]!;
  return { storage, store, stored };
}

describe("deferred session writes", () => {
  it("merged batches count at once in the session's view, and in its row when their window closes", () => {
    const { store, stored } = setup();
    store.tx(() => store.appendBatch(store.session()!, actions(0, 3), identity, 10, 100, true));
    store.tx(() => store.appendBatch(store.session()!, actions(3, 4), identity, 10, 200, true));
    expect(store.session()).toMatchObject({ actions_accepted: 7, batches_accepted: 2, open_count: 7, open_window: 1, last_action_at: 200 });
    expect(stored()).toMatchObject({ actions_accepted: 0, batches_accepted: 0 });
    store.tx(() => store.appendBatch(store.session()!, actions(7, 3), identity, 10, 300, true));
    expect(store.session()).toMatchObject({ actions_accepted: 10, batches_accepted: 3, open_count: 0, open_window: 2, last_action_at: 300 });
    expect(stored()).toMatchObject({ actions_accepted: 10, batches_accepted: 3 });
    // A flush folds an open window's waiting counts the same way.
    store.tx(() => store.appendBatch(store.session()!, actions(10, 2), identity, 10, 400, true));
    store.tx(() => store.closeOpenWindow());
    expect(stored()).toMatchObject({ actions_accepted: 12, batches_accepted: 4 });
    expect(store.session()).toMatchObject({ open_count: 0, open_window: 3, last_action_at: 400 });
  });

  it("memory's progress is written with the next batch, and never carried into another incarnation", () => {
    const { storage, store, stored } = setup();
    store.markMemorised("e1", 4);
    expect(store.session()!.memorised_window).toBe(4);
    expect(stored().memorised_window).toBe(0);
    store.tx(() => store.appendBatch(store.session()!, actions(0, 1), identity, 10, 100, true));
    store.tx(() => store.appendBatch(store.session()!, actions(1, 1), { ...identity, user_id: "u" }, 10, 200, true));
    expect(stored().memorised_window).toBe(4);

    // The session is erased and its id starts again (same actor, same store object): a new epoch starts from nothing.
    store.markMemorised("e1", 6);
    storage.sql.exec("DELETE FROM session");
    storage.sql.exec("DELETE FROM batches");
    store.createSession("p", "s", "e2", 1_000);
    expect(store.session()!.memorised_window).toBe(0);
    store.tx(() => store.appendBatch(store.session()!, actions(0, 10), identity, 10, 1_100, true));
    expect(stored()).toMatchObject({ epoch: "e2", memorised_window: 0 });
  });

  it("a summary's row (and the list of them) is taken as it was written, never one a rollback or pruning removed", () => {
    const { storage, store } = setup();
    const row = (id: number) => storage.sql.exec("SELECT * FROM windows WHERE id = ?", id).toArray()[0] ?? null;
    const ids = () => storage.sql.exec<{ id: number }>("SELECT id FROM windows ORDER BY id").toArray().map((r) => r.id);
    expect(store.summarisedWindows()).toEqual([]);
    store.tx(() => store.appendBatch(store.session()!, actions(0, 10), identity, 10, 100, true));
    store.tx(() => store.storeSummary({ first: 1, last: 1 }, "window one", SUMMARY_ORIGIN.llm, 150));
    expect(store.window(1)).toEqual(row(1));
    expect(store.window(1)).toMatchObject({ id: 1, action_count: 10, summary: "window one" });
    expect(store.summarisedWindows()).toEqual([1]);

    // A summary whose transaction rolls back was never stored.
    store.tx(() => store.appendBatch(store.session()!, actions(10, 10), identity, 10, 200, true));
    expect(() =>
      store.tx(() => {
        store.storeSummary({ first: 2, last: 2 }, "rolled back", SUMMARY_ORIGIN.llm, 250);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.window(2)).toBeNull();
    expect(store.summarisedWindows()).toEqual(ids());

    // The session's next summary reuses window one's row (pruning would drop it): window one is gone.
    store.tx(() => store.storeSummary({ first: 2, last: 2 }, "window two", SUMMARY_ORIGIN.llm, 300));
    expect(row(1)).toBeNull();
    expect(store.window(1)).toBeNull();
    expect(store.window(2)).toEqual(row(2));
    expect(store.window(2)).toMatchObject({ id: 2, action_count: 10, summary: "window two" });
    expect(store.summarisedWindows()).toEqual([2]);
    expect(ids()).toEqual([2]);
  });
});
