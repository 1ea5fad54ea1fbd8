/**
 * Memory without an embedder (full text, FTS5 in the product's SQLite): every summary of a
 * product's sessions indexed once by its own memory step, searchable in natural language (stemming,
 * stop words, no word required), by user, never across products; erased with its session; off
 * per product; read scope; the MCP tool `search_memory`; each entry's values kept with their types.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../src/product/memory/memoryStore";
import { auth, batch, getState, postActions, request, sessionPath, settle, sqlRows, uniqueSession } from "./helpers/api";
import { entry, memoryRows, remember, search } from "./helpers/memory";
import { callTool, mcpClient, textOf } from "./helpers/mcp";
import { bearer, createKey, productStub, putSettings } from "./helpers/products";
import { installWorld } from "./helpers/world";

let installed: ReturnType<typeof installWorld>;
beforeEach(() => {
  installed = installWorld();
});
afterEach(() => installed.restore());

const summaries = (body: { results: { summary: string }[] }) => body.results.map((r) => r.summary);

describe("natural-language search over FTS5", () => {
  it("matches word forms, ignores stop words, requires no single word, ranks by BM25", async () => {
    const p = uniqueSession("nl");
    await remember(
      p,
      entry("The user exported three invoices to CSV from the billing page.", { user_id: "u-a" }),
      entry("The user changed the notification settings and muted email alerts.", { user_id: "u-b" }),
      entry("The user opened the invoice list, then left.", { user_id: "u-c" }),
      entry("The user searched the help center for keyboard shortcuts.", { user_id: "u-d" }),
    );
    const { status, body } = await search(p, { q: "Did this user try to export invoices?" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ memory: "on", ranking: "fts" });
    // "export" finds "exported", "invoices" finds "invoice"; both words beat one; stop words match nothing.
    expect(summaries(body)).toEqual(["The user exported three invoices to CSV from the billing page.", "The user opened the invoice list, then left."]);
    expect(body.results[0]!.score).toBeGreaterThan(body.results[1]!.score);
    expect(body.results[0]).toMatchObject({ user_id: "u-a", window: 1, extractive: false, time: expect.stringMatching(/Z$/) });

    // Only stop words: nothing matches (no summary is about "the user").
    expect((await search(p, { q: "what did the user do?" })).body.results).toEqual([]);
    // FTS5 syntax in a question is just words.
    expect(summaries((await search(p, { q: 'muted" OR NEAR(alerts' })).body)).toEqual(["The user changed the notification settings and muted email alerts."]);
  });

  it("filters by user, limits, and never answers with another product's summaries", async () => {
    const p = uniqueSession("usr");
    const other = uniqueSession("other");
    await remember(p, entry("Exported the invoices.", { user_id: "u-1" }), entry("Exported invoices again.", { user_id: "u-2" }), entry("Invoices exported twice.", { user_id: "u-2" }));
    await remember(other, entry("Exported invoices in the other product.", { user_id: "u-1" }));
    expect(summaries((await search(p, { q: "export invoices", user_id: "u-1" })).body)).toEqual(["Exported the invoices."]);
    expect((await search(p, { q: "export invoices", user_id: "u-2" })).body.results.map((r) => r.user_id)).toEqual(["u-2", "u-2"]);
    expect((await search(p, { q: "export invoices", limit: "1" })).body.results).toHaveLength(1);
    expect((await search(p, { q: "export invoices" })).body.results.every((r) => !r.summary.includes("other product"))).toBe(true);
    expect(summaries((await search(other, { q: "export invoices" })).body)).toEqual(["Exported invoices in the other product."]);
  });

  it("refuses a missing or bad query with 422, and a key without the read scope", async () => {
    const p = uniqueSession("bad");
    for (const q of [{}, { q: "" }, { q: "   " }, { q: "x", limit: "0" }, { q: "x", limit: "51" }, { q: "x".repeat(1001) }]) {
      const { status, body } = await search(p, q as Record<string, string>);
      expect(status, JSON.stringify(q)).toBe(422);
      expect(body).toMatchObject({ error: { code: "invalid_query" } });
    }
    const ingestOnly = await createKey("ingest", [p], ["ingest"]);
    expect((await search(p, { q: "x" }, bearer(ingestOnly.key))).status).toBe(403);
    const reader = await createKey("reader", [p], ["read"]);
    expect((await search(p, { q: "x" }, bearer(reader.key))).status).toBe(200);
    expect((await search(uniqueSession("elsewhere"), { q: "x" }, bearer(reader.key))).status).toBe(403);
  });

  it("upserts by id: the same summary sent twice is one entry", async () => {
    const p = uniqueSession("upsert");
    const e = entry("Tried to export invoices.");
    await remember(p, e, e, { ...e, text: "Tried to export invoices, twice." });
    expect(await memoryRows(p)).toEqual({ ids: [e.id], fts: 1, vectors: 0 });
    expect(summaries((await search(p, { q: "invoices" })).body)).toEqual(["Tried to export invoices, twice."]);
  });
});

describe("one row per entry", () => {
  it("keeps each value's type through the UNINDEXED columns: integers, text, NULL and the vector's bytes", async () => {
    const p = uniqueSession("types");
    const e = entry("Exported invoices.", { user_id: null, window: 3, extractive: true });
    const vector = Float32Array.from([0.25, -2, 1e-7]);
    const row = await runInDurableObject(productStub(p), (_i, state) => {
      new MemoryStore(state.storage).upsert(e, vector);
      return state.storage.sql
        .exec(
          "SELECT id, session_id, user_id, window_id, time, extractive, vector, typeof(window_id) AS window_type, typeof(time) AS time_type, typeof(extractive) AS extractive_type, typeof(vector) AS vector_type FROM memory_entries",
        )
        .one();
    });
    expect(row).toMatchObject({ id: e.id, session_id: e.session_id, user_id: null, window_id: 3, time: e.time, extractive: 1, window_type: "integer", time_type: "integer", extractive_type: "integer", vector_type: "blob" });
    expect(row.vector).toBeInstanceOf(ArrayBuffer);
    expect([...new Float32Array(row.vector as ArrayBuffer)]).toEqual([...vector]);
    const again = await runInDurableObject(productStub(p), (_i, state) => {
      const store = new MemoryStore(state.storage);
      return { vectors: store.vectors(undefined), hits: store.byIds([e.id], () => 1) };
    });
    expect(again.vectors.map((v) => [...v.vector])).toEqual([[...vector]]);
    expect(again.hits).toEqual([{ summary: e.text, session_id: e.session_id, user_id: null, window: 3, time: e.time, extractive: true, score: 1 }]);
    // A change keeps the types too.
    const changed = await runInDurableObject(productStub(p), (_i, state) => {
      new MemoryStore(state.storage).upsert({ ...e, window: 4, extractive: false }, null);
      return state.storage.sql.exec("SELECT typeof(window_id) AS w, typeof(time) AS t, typeof(extractive) AS x, typeof(vector) AS v FROM memory_entries").one();
    });
    expect(changed).toEqual({ w: "integer", t: "integer", x: "integer", v: "null" });
  });

  it("searches the summary only: a query naming a column or a session's id finds nothing by its metadata", async () => {
    const p = uniqueSession("columns");
    const e = entry("Opened the billing page.", { session_id: "invoices-session", user_id: "invoices" });
    await remember(p, e);
    for (const q of ["invoices", "session_id:invoices", "id:invoices-session", "user_id : invoices", "e1"]) {
      const { status, body } = await search(p, { q });
      expect(status, q).toBe(200);
      expect(summaries(body), q).toEqual([]);
    }
    expect(summaries((await search(p, { q: "session_id: billing" })).body)).toEqual(["Opened the billing page."]);
  });
});

describe("the memory step", () => {
  it("indexes each summary of a session once, with its session, user and window; erase removes them", async () => {
    const p = uniqueSession("step");
    const s = uniqueSession();
    for (const from of [0, 10]) {
      expect((await postActions(batch(p, s, from, 10, { user_id: "u-9" }))).status).toBe(202);
      await settle(p, s);
    }
    const stored = await sqlRows<{ id: number; summary: string }>(p, s, "SELECT id, summary FROM windows WHERE summary IS NOT NULL ORDER BY id");
    expect(stored.length).toBeGreaterThan(0);
    const epoch = (await sqlRows<{ epoch: string }>(p, s, "SELECT epoch FROM session"))[0]!.epoch;
    const rows = await memoryRows(p);
    // Pruning keeps only the newest summary in a store-only session; each summary it made went to memory first.
    expect(rows.ids).toEqual([1, 2].map((w) => `${s}:${epoch}:${w}`));
    expect(rows.fts).toBe(2);
    const { body } = await search(p, { q: "steps" });
    expect(body.results.map((r) => [r.session_id, r.user_id, r.window])).toEqual(expect.arrayContaining([[s, "u-9", 1], [s, "u-9", 2]]));
    expect((await getState(p, s)).body.steps).toEqual([]);

    expect((await request(sessionPath(p, s), { method: "DELETE", headers: auth })).status).toBe(204);
    expect(await memoryRows(p)).toEqual({ ids: [], fts: 0, vectors: 0 });
    expect((await search(p, { q: "steps" })).body.results).toEqual([]);
  });

  it("MEMORY off for a product: no step, no entry, and search says memory is off", async () => {
    const p = uniqueSession("off");
    const put = await putSettings(p, { memory: "off" });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { effective: { memory: string } }).effective.memory).toBe("off");
    const s = uniqueSession();
    await postActions(batch(p, s, 0, 10, { user_id: "u-1" }));
    await settle(p, s);
    expect((await sqlRows(p, s, "SELECT id FROM windows WHERE summary IS NOT NULL")).length).toBe(1);
    expect(await memoryRows(p)).toEqual({ ids: [], fts: 0, vectors: 0 });
    // An entry a session sent before the setting changed is not kept either.
    await remember(p, entry("Exported invoices."));
    expect(await memoryRows(p)).toEqual({ ids: [], fts: 0, vectors: 0 });
    const { status, body } = await search(p, { q: "steps" });
    expect(status).toBe(200);
    expect(body).toEqual({ product_id: p, query: "steps", memory: "off", ranking: "none", results: [] });
  });
});

describe("MCP search_memory", () => {
  it("answers ranked summaries for a covered product, refuses another", async () => {
    const p = uniqueSession("mcp");
    await remember(p, entry("The user exported invoices to CSV.", { user_id: "u-7", session_id: "sess-7" }), entry("The user renamed a project.", { user_id: "u-8" }));
    const key = await createKey("agent", [p], ["read"]);
    const client = await mcpClient(key.key);
    const result = await callTool(client, "search_memory", { product_id: p, query: "has anyone exported an invoice?", user_id: "u-7" });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain("session sess-7");
    expect(result.structuredContent).toMatchObject({ product_id: p, memory: "on", results: [{ session_id: "sess-7", user_id: "u-7", summary: "The user exported invoices to CSV." }] });
    const refused = await callTool(client, "search_memory", { product_id: uniqueSession("nope"), query: "invoices" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("read scope");
    await client.close();
  });
});
