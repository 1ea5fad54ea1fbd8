/**
 * The built-in (full-text) memory's retrieval figures: recall@1 and recall@5 on the 50-intent
 * fixture with queries phrased differently from the summaries, and the latency of a search over
 * 10,000 indexed summaries, in workerd's SQLite. The figures are logged (`MEMORY_FIGURES`); the
 * assertions pin the floor they must not fall below.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { search } from "../src/product/memory/memory";
import { MemoryStore } from "../src/product/memory/memoryStore";
import { uniqueSession } from "./helpers/api";
import { MEMORY_INTENTS } from "./fixtures/memoryIntents";
import { entry, search as searchRoute } from "./helpers/memory";
import { productStub } from "./helpers/products";

const memoryOf = (storage: DurableObjectStorage) => ({ store: new MemoryStore(storage), embed: null, vectors: null });

describe("retrieval figures", () => {
  it("recall@1 and recall@5 over 50 intents, queries phrased differently", async () => {
    const p = uniqueSession("recall");
    const { at1, at5 } = await runInDurableObject(productStub(p), async (_i, state) => {
      const memory = memoryOf(state.storage);
      MEMORY_INTENTS.forEach(({ summary }, i) => memory.store.upsert(entry(summary, { session_id: `intent-${i}` }), null));
      let hits1 = 0;
      let hits5 = 0;
      for (const [i, { query }] of MEMORY_INTENTS.entries()) {
        const sessions = (await search(memory, { q: query, limit: 5 })).hits.map((h) => h.session_id);
        if (sessions[0] === `intent-${i}`) hits1 += 1;
        if (sessions.includes(`intent-${i}`)) hits5 += 1;
      }
      return { at1: hits1 / MEMORY_INTENTS.length, at5: hits5 / MEMORY_INTENTS.length };
    });
    console.log(`MEMORY_FIGURES recall@1=${at1.toFixed(2)} recall@5=${at5.toFixed(2)} (n=${MEMORY_INTENTS.length})`);
    expect(at1).toBeGreaterThanOrEqual(0.8);
    expect(at5).toBeGreaterThanOrEqual(0.9);
  });

  it("a search over 10,000 summaries, through the route", { timeout: 120_000 }, async () => {
    const p = uniqueSession("latency");
    await runInDurableObject(productStub(p), (_i, state) => {
      const { store } = memoryOf(state.storage);
      for (let i = 0; i < 10_000; i++) {
        const { summary } = MEMORY_INTENTS[i % MEMORY_INTENTS.length]!;
        store.upsert(entry(`${summary} Session ${i} also visited page ${i % 97}.`, { session_id: `bulk-${i}`, user_id: `u-${i % 500}` }), null);
      }
    });
    // Timed around each request (workerd's clock moves at I/O, so a sync loop inside the actor would read 0).
    const times: number[] = [];
    for (const { query } of [...MEMORY_INTENTS, ...MEMORY_INTENTS]) {
      const t0 = Date.now();
      const { status, body } = await searchRoute(p, { q: query, limit: "10" });
      times.push(Date.now() - t0);
      expect(status).toBe(200);
      expect(body.results.length).toBeGreaterThan(0);
    }
    times.sort((a, b) => a - b);
    const [p50, p99] = [times[Math.floor(times.length * 0.5)]!, times[Math.floor(times.length * 0.99)]!];
    console.log(`MEMORY_FIGURES GET /v1/products/:p/search over 10000 summaries (${times.length} queries): p50=${p50} ms p99=${p99} ms`);
  });
});
