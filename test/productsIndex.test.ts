/**
 * The session index: written by each session's own index step (never by ingest), it lists a
 * product's sessions after create, link, park and recover; erased and expired sessions leave it
 * (an expired entry goes even if the session never said so); newest activity first, filtered by
 * status and user, in pages with an opaque cursor.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IndexEntry } from "../src/product/sessionIndex";
import { ageLastAction, auth, batch, behindActor, makeStepsDue, postActions, request, sessionPath, settle, stubFor, uniqueSession } from "./helpers/api";
import { listSessions, productStub, putSettings, type Json } from "./helpers/products";
import { installWorld } from "./helpers/world";

const DAY_MS = 24 * 60 * 60_000;

let installed: ReturnType<typeof installWorld>;
beforeEach(() => {
  installed = installWorld();
});
afterEach(() => installed.restore());

const entryOf = async (p: string, s: string): Promise<Json | undefined> =>
  (await listSessions(`/v1/products/${p}/sessions`)).body.sessions.find((e) => e.session_id === s);

describe("the index follows a session's life", () => {
  it("after create, link, erase", async () => {
    const p = uniqueSession("life");
    const s = uniqueSession();
    expect((await postActions(batch(p, s, 0, 3, { user_id: "u-1" }))).status).toBe(202);
    // The entry comes from the session's own index step, which its alarm runs.
    await settle(p, s);
    expect(await entryOf(p, s)).toMatchObject({
      session_id: s,
      user_id: "u-1",
      link: null,
      status: "active",
      counts: { actions: 3, batches: 1 },
      step: null,
    });

    const linked = await request(sessionPath(p, s, "/link"), { method: "PUT", headers: auth, body: JSON.stringify({ conversation_id: "conv-9" }) });
    expect(linked.status).toBe(200);
    await settle(p, s);
    expect(await entryOf(p, s)).toMatchObject({ link: "conv-9", status: "linked" });

    expect((await request(sessionPath(p, s), { method: "DELETE", headers: auth })).status).toBe(204);
    expect(await entryOf(p, s)).toBeUndefined();
  });

  it("after park and recover", async () => {
    const p = uniqueSession("park");
    expect((await putSettings(p, { destinations: [{ type: "webhook", url: "https://hooks.test/park", secret: { env: "WEBHOOK_SECRET_B" } }] })).status).toBe(200);
    const s = uniqueSession();
    installed.faults.failDest("401");
    expect((await postActions(batch(p, s, 0, 2))).status).toBe(202);
    await settle(p, s);
    const parked = await listSessions(`/v1/products/${p}/sessions?status=parked`);
    expect(parked.body.sessions).toEqual([
      expect.objectContaining({ session_id: s, status: "parked", step: expect.objectContaining({ kind: "deliver", parked: true, attempts: 1 }) }),
    ]);

    expect((await request(sessionPath(p, s, "/flush"), { method: "POST", headers: auth })).status).toBe(202);
    await settle(p, s);
    expect(await entryOf(p, s)).toMatchObject({ status: "active", step: null, counts: { raw_notes: 1 } });
    expect((await listSessions(`/v1/products/${p}/sessions?status=parked`)).body.sessions).toEqual([]);
  });

  it("after expiry: the session leaves the index before it erases itself", async () => {
    const p = uniqueSession("expire");
    const s = uniqueSession();
    await postActions(batch(p, s, 0, 1));
    await settle(p, s);
    expect(await entryOf(p, s)).toBeDefined();
    await behindActor(p, s, (sql) => ageLastAction(sql, 8 * DAY_MS, ["indexed_activity_at"]));
    await makeStepsDue(p, s);
    await runDurableObjectAlarm(stubFor(p, s));
    expect(await stubFor(p, s).state()).toBeNull();
    expect(await entryOf(p, s)).toBeUndefined();
  });
});

function entry(sessionId: string, lastActivityAt: number, extra: Partial<IndexEntry> = {}): IndexEntry {
  return {
    session_id: sessionId,
    epoch: "e1",
    user_id: null,
    link: null,
    created_at: lastActivityAt - 1_000,
    last_activity_at: lastActivityAt,
    expires_at: lastActivityAt + 7 * DAY_MS,
    counts: { actions: 1, batches: 1, raw_notes: 0, summaries: 0, redactions: 0 },
    step: null,
    ...extra,
  };
}

describe("listing", () => {
  it("pages newest activity first with an opaque cursor, and drops entries whose expiry passed even if never removed", async () => {
    const p = uniqueSession("pages");
    const now = Date.now();
    const product = productStub(p);
    for (let i = 0; i < 5; i++) await product.indexSession(entry(`s${i}`, now - i * 1_000));
    await product.indexSession(entry("gone", now, { expires_at: now - 1 }));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const { status, body } = await listSessions(`/v1/products/${p}/sessions${query}`);
      expect(status).toBe(200);
      expect(body.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...body.sessions.map((e) => e.session_id as string));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    expect(pages).toBe(3);
  });

  it("filters by status (idle from the clock) and by user, and refuses a bad query", async () => {
    const p = uniqueSession("filters");
    const now = Date.now();
    const product = productStub(p);
    await product.indexSession(entry("fresh", now, { user_id: "ann" }));
    await product.indexSession(entry("quiet", now - 60 * 60_000, { user_id: "ann" }));
    await product.indexSession(entry("talking", now - 1_000, { user_id: "bob", link: "c-1" }));
    await product.indexSession(entry("stuck", now - 2_000, { step: { key: "deliver:1", kind: "deliver", attempts: 8, last_error: "401", parked: true } }));
    const ids = async (query: string) => (await listSessions(`/v1/products/${p}${query}`)).body.sessions.map((e) => e.session_id);
    expect(await ids("/sessions?status=active")).toEqual(["fresh"]);
    expect(await ids("/sessions?status=idle")).toEqual(["quiet"]);
    expect(await ids("/sessions?status=linked")).toEqual(["talking"]);
    expect(await ids("/sessions?status=parked")).toEqual(["stuck"]);
    expect(await ids("/sessions?user_id=ann")).toEqual(["fresh", "quiet"]);
    expect(await ids("/users/ann/sessions")).toEqual(["fresh", "quiet"]);
    expect(await ids("/users/ann/sessions?status=idle")).toEqual(["quiet"]);
    for (const query of ["?status=sleeping", "?limit=0", "?limit=201", "?cursor=not-ours", "?cursor=WzEsMl0"]) {
      const { status, body } = await listSessions(`/v1/products/${p}/sessions${query}`);
      expect([status, (body.error as { code: string }).code], query).toEqual([422, "invalid_query"]);
    }
  });
});
