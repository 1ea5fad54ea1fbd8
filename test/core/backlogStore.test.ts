/**
 * The backlog ingest checks is kept in memory between scans: it must always equal what a fresh
 * read of the pending batches gives, through appends, coverage moving on, pruning and rollbacks.
 */
import { describe, expect, it } from "vitest";
import { migrate } from "../../src/session/migrations";
import { SessionStore } from "../../src/session/sessionStore";
import { createNodeStorage } from "./support/nodeStorage";

const action = (i: number) => ({ title: `t${i}`, description: `did thing ${i} \u00e9`, canonical_url: "/p", index: i, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null });
const identity = { user_id: null, email: null, link: null };

function setup() {
  const storage = createNodeStorage();
  migrate(storage);
  const store = new SessionStore(storage);
  store.createSession("p", "s", "e1", 0);
  // What a scan of the batches says, read past the cache.
  const scanned = () => {
    const covered = store.session()!.covered_window;
    const row = storage.sql
      .exec<{ actions: number; bytes: number }>("SELECT COALESCE(SUM(action_count), 0) AS actions, COALESCE(SUM(octet_length(actions)), 0) AS bytes FROM batches WHERE window_id > ?", covered)
      .toArray()[0]!;
    return { actions: row.actions, bytes: row.bytes };
  };
  return { store, scanned };
}

describe("the cached backlog", () => {
  it.each([false, true])("equals a fresh scan after appends, a rollback and a prune (batches merged per window: %s)", (merge) => {
    const { store, scanned } = setup();
    for (let b = 0; b < 12; b++) {
      store.tx(() => store.appendBatch(store.session()!, [action(b), action(b + 100)], identity, 10, b, merge));
      expect(store.backlog(store.session()!)).toEqual(scanned());
    }
    expect(() =>
      store.tx(() => {
        store.appendBatch(store.session()!, [action(999)], identity, 10, 99, merge);
        throw new Error("abort");
      }),
    ).toThrow("abort");
    expect(store.backlog(store.session()!)).toEqual(scanned());
    store.tx(() => store.prune(true));
    expect(store.backlog(store.session()!)).toEqual(scanned());
    expect(scanned().actions).toBe(24);
    // Merged: one row per window (5 windows of 10, 2 actions a batch, the last one open), in order.
    if (merge) expect(store.uncoveredActions(0).map((a) => a.index)).toEqual(Array.from({ length: 12 }, (_, b) => [b, b + 100]).flat());
    // Two closed windows of 10 and an open one: a summary covers each in turn, and the cache follows without a scan.
    for (const w of [1, 2]) {
      expect(store.summaryInput(w, 20, true).windows.map((x) => x.id)).toEqual([1, 2].filter((x) => x >= w));
      store.tx(() => {
        store.storeSummary({ first: w, last: w }, `summary of ${w}`, "llm" as never, 1_000 + w);
        store.prune(true);
      });
      expect(store.backlog(store.session()!)).toEqual(scanned());
    }
    expect(scanned().actions).toBe(4);
  });
});
