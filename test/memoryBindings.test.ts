/**
 * Memory's optional bindings through fakes of their interfaces (neither runs locally): a Vectorize
 * index as the vector store (one index for every product, filtered by product and user metadata,
 * ids within Vectorize's 64 bytes, topK within its limit with metadata) and the Workers AI binding
 * as the embedder. Remember, hybrid search and removal run on a real product actor's SQLite.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { remember, search, type Memory } from "../src/product/memory/memory";
import { MemoryStore } from "../src/product/memory/memoryStore";
import { vectorizeIndex, workersAiEmbedder, type MemoryBindings } from "../src/product/memory/vectorize";
import { uniqueSession } from "./helpers/api";
import { entry } from "./helpers/memory";
import { productStub } from "./helpers/products";

type Stored = { values: number[]; metadata: Record<string, string> };

/** Vectorize as its binding behaves for what memory calls: upsert, query (cosine, metadata filter), deleteByIds. */
function fakeVectorize() {
  const vectors = new Map<string, Stored>();
  const problems: string[] = [];
  const cos = (a: number[], b: number[]) => a.reduce((n, x, i) => n + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b) || 1);
  const index: NonNullable<MemoryBindings["MEMORY_INDEX"]> = {
    async upsert(list) {
      for (const v of list) {
        if (new TextEncoder().encode(v.id).length > 64) problems.push(`id over 64 bytes: ${v.id}`);
        vectors.set(v.id, { values: [...(v.values as number[])], metadata: v.metadata as Record<string, string> });
      }
      return { mutationId: "m" };
    },
    async query(vector, options) {
      if (options?.returnMetadata === "all" && (options.topK ?? 5) > 20) problems.push(`topK ${options.topK} with metadata`);
      const filter = (options?.filter ?? {}) as Record<string, string>;
      const matches = [...vectors]
        .filter(([, v]) => Object.entries(filter).every(([k, want]) => v.metadata[k] === want))
        .map(([id, v]) => ({ id, score: cos([...vector], v.values), metadata: v.metadata }))
        .sort((a, b) => b.score - a.score)
        .slice(0, options?.topK ?? 5);
      return { matches, count: matches.length };
    },
    async deleteByIds(ids) {
      for (const id of ids) vectors.delete(id);
      return { mutationId: "m" };
    },
  };
  return { index, vectors, problems };
}

/** Workers AI's embedding models answer `{ shape, data }` for `{ text: [...] }`. */
function fakeAi() {
  const calls: { model: string; text: string[] }[] = [];
  return {
    calls,
    ai: {
      async run(model: string, input: { text: string[] }) {
        calls.push({ model, text: input.text });
        const data = input.text.map((t) => [t.includes("invoice") || t.includes("bill") ? 1 : 0, t.includes("settings") ? 1 : 0, 0.1]);
        return { shape: [data.length, 3], data };
      },
    },
  };
}

/** Runs `body` with a real product actor's storage and memory over the fakes. */
async function withMemory<T>(productId: string, vectorize: ReturnType<typeof fakeVectorize>, ai: ReturnType<typeof fakeAi>, body: (m: Memory) => Promise<T>): Promise<T> {
  return runInDurableObject(productStub(productId), (_i, state) =>
    body({ store: new MemoryStore(state.storage), embed: workersAiEmbedder(ai.ai, "@cf/baai/bge-base-en-v1.5"), vectors: vectorizeIndex(vectorize.index, productId) }),
  );
}

describe("Vectorize and Workers AI bindings", () => {
  it("vectors go to the index (not SQLite), filtered by product and user; hybrid search reads hits back from SQLite", async () => {
    const vectorize = fakeVectorize();
    const ai = fakeAi();
    const p = uniqueSession("vz");
    const other = uniqueSession("vz-other");
    const longSession = "s".repeat(128);
    await withMemory(p, vectorize, ai, async (m) => {
      expect(await remember(m, entry("The user downloaded every bill.", { user_id: "u-1", session_id: longSession }))).toEqual({ kind: "done" });
      expect(await remember(m, entry("The user changed the settings.", { user_id: "u-2" }))).toEqual({ kind: "done" });
      expect(m.store.vectors(undefined)).toEqual([]);
    });
    await withMemory(other, vectorize, ai, (m) => remember(m, entry("Another product's bill.", { user_id: "u-1" })));
    expect(vectorize.vectors.size).toBe(3);
    expect(ai.calls[0]).toEqual({ model: "@cf/baai/bge-base-en-v1.5", text: ["The user downloaded every bill."] });

    const answer = await withMemory(p, vectorize, ai, (m) => search(m, { q: "any invoice?", limit: 30 }));
    expect(answer).toMatchObject({ memory: "on", ranking: "hybrid" });
    expect(answer.hits.map((h) => h.summary)).toEqual(["The user downloaded every bill.", "The user changed the settings."]);
    const forUser = await withMemory(p, vectorize, ai, (m) => search(m, { q: "any invoice?", userId: "u-2", limit: 5 }));
    expect(forUser.hits.map((h) => h.user_id)).toEqual(["u-2"]);
    expect(vectorize.problems).toEqual([]);
  });

  it("erasing a session removes its vectors from the index, then its rows; a failing index removes nothing", async () => {
    const vectorize = fakeVectorize();
    const ai = fakeAi();
    const p = uniqueSession("vz-erase");
    const e = entry("The user paid a bill.", { session_id: "erase-me" });
    await withMemory(p, vectorize, ai, (m) => remember(m, e));
    await withMemory(p, vectorize, ai, (m) => remember(m, entry("Kept.", { session_id: "keep-me" })));
    expect(vectorize.vectors.size).toBe(2);

    // The order the actor's unindexSession follows with the index bound: the index first, then the rows.
    const broken = { ...vectorize.index, deleteByIds: () => Promise.reject(new Error("down")) };
    await expect(
      runInDurableObject(productStub(p), async (_i, state) => {
        const store = new MemoryStore(state.storage);
        await vectorizeIndex(broken, p).remove(store.idsOf("erase-me"));
        store.removeSession("erase-me");
      }),
    ).rejects.toThrow("down");
    expect(vectorize.vectors.size).toBe(2);
    await runInDurableObject(productStub(p), async (_i, state) => {
      const store = new MemoryStore(state.storage);
      await vectorizeIndex(vectorize.index, p).remove(store.idsOf("erase-me"));
      store.removeSession("erase-me");
      expect(store.count()).toBe(1);
    });
    expect([...vectorize.vectors.values()].map((v) => v.metadata.session_id)).toEqual(["keep-me"]);
  });

  it("a Workers AI or Vectorize failure is a retry the memory step backs off on; nothing is half written", async () => {
    const vectorize = fakeVectorize();
    const p = uniqueSession("vz-fail");
    const failingAi = { ai: { run: () => Promise.reject(new Error("capacity")) }, calls: [] };
    const failing = await runInDurableObject(productStub(p), (_i, state) =>
      remember({ store: new MemoryStore(state.storage), embed: workersAiEmbedder(failingAi.ai, "@cf/x"), vectors: vectorizeIndex(vectorize.index, p) }, entry("x")),
    );
    expect(failing).toEqual({ kind: "retry", error: "Workers AI embedding failed (Error)" });
    const brokenIndex = { ...vectorize.index, upsert: () => Promise.reject(new TypeError("down")) };
    const ai = fakeAi();
    const noIndex = await runInDurableObject(productStub(p), (_i, state) =>
      remember({ store: new MemoryStore(state.storage), embed: workersAiEmbedder(ai.ai, "@cf/x"), vectors: vectorizeIndex(brokenIndex, p) }, entry("bill")),
    );
    expect(noIndex).toEqual({ kind: "retry", error: "the vector index could not be written (TypeError)" });
    expect(await runInDurableObject(productStub(p), (_i, state) => new MemoryStore(state.storage).count())).toBe(0);
    const odd = await workersAiEmbedder({ run: async () => ({ data: [[1]] }) }, "@cf/x")(["a", "b"]);
    expect(odd).toMatchObject({ kind: "retry" });
  });
});
