/**
 * The session's memory of applied keys on node:sqlite: kept for IDEMPOTENCY_TTL_MS and then
 * forgotten (rows pruned, so they stay bounded by what arrived within the TTL), and the keys a
 * session held in the old `recent_keys` column honoured after the 001 migration.
 */
import { describe, expect, it } from "vitest";
import { parseCore } from "../../src/config";
import { migrate, MIGRATIONS } from "../../src/session/migrations";
import { SessionCore } from "../../src/session/sessionCore";
import { SessionStore } from "../../src/session/sessionStore";
import { createExtractiveSummariser } from "../../src/llm/extractive";
import { createNodeStorage } from "./support/nodeStorage";

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

function coreOn(storage: DurableObjectStorage, vars: Record<string, string> = {}) {
  const store = new SessionStore(storage);
  const core = new SessionCore(
    { store, config: parseCore(vars), laneEntries: [], destination: () => { throw new Error("no destination in this test"); }, summariser: createExtractiveSummariser(), now: () => T0, random: () => 0.5, log: () => {} },
    { preLinkWindowMs: 120_000, idleMs: 30 * 60_000, retentionMs: 365 * 24 * HOUR },
  );
  return { store, core };
}

const action = (title: string) => ({ title, description: title, canonical_url: "/p", index: 0, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null });
const payload = (...titles: string[]) => ({ product_id: "p", session_id: "s", user_id: null, email: null, conversation_id: null, forwarded_at: 0, actions: titles.map(action) });

describe("seen keys", () => {
  it("remembers an event id for IDEMPOTENCY_TTL_MS (default 24 hours), then forgets it and prunes its row", () => {
    const storage = createNodeStorage();
    migrate(storage);
    const { store, core } = coreOn(storage);
    const events = (...keys: string[]) => ({ kind: "events" as const, keys });
    expect(core.ingest(payload("a"), events("ev-a"), T0).outcome).toBe("applied");
    expect(core.ingest(payload("a"), events("ev-a"), T0 + 24 * HOUR - 1)).toMatchObject({ outcome: "duplicate", seen: 1 });
    // Expired rows are deleted by an ingest at most every ten minutes; reads ignore them meanwhile.
    expect(core.ingest(payload("b"), events("ev-b"), T0 + 24 * HOUR + 1).outcome).toBe("applied");
    expect(store.storageFigures().seen_keys).toBe(2);
    expect(core.ingest(payload("c"), events("ev-c"), T0 + 24 * HOUR + 600_000).outcome).toBe("applied");
    expect(store.storageFigures().seen_keys).toBe(2); // ev-a's row went
    expect(core.ingest(payload("a"), events("ev-a"), T0 + 24 * HOUR + 600_001)).toMatchObject({ outcome: "applied", actions: 1 });
  });

  it("drops a batch's repeated events, keeps the rest, and honours the setting", () => {
    const storage = createNodeStorage();
    migrate(storage);
    const { core } = coreOn(storage, { IDEMPOTENCY_TTL_MS: String(HOUR) });
    const events = (...keys: string[]) => ({ kind: "events" as const, keys });
    core.ingest(payload("a", "b"), events("a", "b"), T0);
    expect(core.ingest(payload("b", "c", "c"), events("b", "c", "c"), T0 + 1)).toMatchObject({ outcome: "applied", actions: 1, seen: 2 });
    expect(core.ingest(payload("a"), events("a"), T0 + HOUR + 1)).toMatchObject({ outcome: "applied", actions: 1 });
  });

  it("an Idempotency-Key's verdict: new, replay with the same fingerprint, conflict with another", () => {
    const storage = createNodeStorage();
    migrate(storage);
    const { core } = coreOn(storage);
    const keyed = (fingerprint: string) => ({ kind: "idempotency" as const, key: "k", batch: null, fingerprint });
    expect(core.idempotencyVerdict("k", "f1", T0)).toBe("new");
    core.ingest(payload("a"), keyed("f1"), T0);
    expect(core.idempotencyVerdict("k", "f1", T0)).toBe("replay");
    expect(core.idempotencyVerdict("k", "f2", T0)).toBe("conflict");
    expect(core.ingest(payload("b"), keyed("f2"), T0).outcome).toBe("conflict");
    expect(core.idempotencyVerdict("k", "f2", T0 + 24 * HOUR + 1)).toBe("new");
  });

  it("a batch the backlog refuses leaves its key unseen: the same request is applied once there is room", async () => {
    const storage = createNodeStorage();
    migrate(storage);
    const { store, core } = coreOn(storage, { SESSION_MAX_PENDING_ACTIONS: "1000" });
    const keyed = (key: string) => ({ kind: "idempotency" as const, key, batch: null, fingerprint: "f" });
    expect(core.ingest(payload(...Array.from({ length: 1000 }, (_, i) => `a${i}`)), keyed("k1"), T0).outcome).toBe("applied");
    expect(core.ingest(payload("c"), keyed("k2"), T0).outcome).toBe("backlog");
    expect(core.ingest(payload("c"), { kind: "content", key: "sha:c" }, T0).outcome).toBe("backlog");
    expect(core.idempotencyVerdict("k2", "f", T0)).toBe("new");
    expect(store.storageFigures().seen_keys).toBe(1);
    await core.drain(50);
    expect(core.ingest(payload("c"), keyed("k2"), T0 + 1)).toMatchObject({ outcome: "applied", actions: 1 });
    expect(core.ingest(payload("d"), { kind: "content", key: "sha:c" }, T0 + 1)).toMatchObject({ outcome: "applied", actions: 1 });
    expect(core.ingest(payload("c"), keyed("k2"), T0 + 2).outcome).toBe("duplicate");
  });

  it("001_seen_keys moves a session's recent_keys: they stay duplicates, whatever the body, until they age out", () => {
    const storage = createNodeStorage();
    migrate(storage, MIGRATIONS.slice(0, 1));
    storage.sql.exec(
      "INSERT INTO session (id, product_id, session_id, epoch, created_at, last_action_at, recent_keys) VALUES (1, 'p', 's', 'e', ?, ?, ?)",
      T0,
      T0,
      JSON.stringify(["idem:old", "sha:abc"]),
    );
    migrate(storage);
    const { core } = coreOn(storage);
    expect(core.ingest(payload("x"), { kind: "idempotency", key: "old", batch: null, fingerprint: "any" }, T0 + HOUR).outcome).toBe("duplicate");
    expect(core.ingest(payload("y"), { kind: "content", key: "sha:abc" }, T0 + HOUR).outcome).toBe("duplicate");
    expect(core.ingest(payload("y"), { kind: "content", key: "sha:abc" }, T0 + 25 * HOUR).outcome).toBe("applied");
    expect(storage.sql.exec<{ recent_keys: string }>("SELECT recent_keys FROM session").toArray()[0]!.recent_keys).toBe("[]");
  });
});
