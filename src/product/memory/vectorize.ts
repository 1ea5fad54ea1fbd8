/**
 * @module
 * The optional platform bindings of memory, behind small interfaces: a Vectorize index as the
 * vector store (`MEMORY_INDEX`) and the Workers AI binding as the embedder (`AI`). Neither runs
 * locally, so neither is declared in wrangler.toml: a deployment binds them (README, Memory) and
 * the tests drive these adapters through fakes of the bindings' interfaces.
 *
 * One Vectorize index serves every product: each vector carries `product_id` and `user_id` as
 * metadata (both need a metadata index) and every query filters on them, so a product never sees
 * another's. Vector ids are the SHA-256 of product and memory id (Vectorize ids are at most 64
 * bytes; a memory id can be longer).
 */
import { done, retry } from "../../result";
import type { Embed } from "./embeddings";
import type { MemoryEntry } from "./types";

/** Where vectors live when they do not live in the product's SQLite. */
export interface VectorIndex {
  upsert(entry: MemoryEntry, vector: Float32Array): Promise<void>;
  /** Memory ids, most similar first. */
  query(vector: Float32Array, userId: string | undefined, topK: number): Promise<string[]>;
  remove(ids: readonly string[]): Promise<void>;
}

/** Vectorize returns metadata with at most this many matches. */
export const VECTORIZE_MAX_TOP_K = 20;

/** The bindings memory may find on the environment (optional: `Env` does not declare them). */
export interface MemoryBindings {
  MEMORY_INDEX?: Pick<Vectorize, "upsert" | "query" | "deleteByIds">;
  AI?: { run(model: string, input: { text: string[] }): Promise<unknown> };
}

async function vectorId(productId: string, memoryId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${productId}\n${memoryId}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function vectorizeIndex(index: NonNullable<MemoryBindings["MEMORY_INDEX"]>, productId: string): VectorIndex {
  return {
    async upsert(entry, vector) {
      const metadata: Record<string, string> = { product_id: productId, memory_id: entry.id, session_id: entry.session_id };
      if (entry.user_id !== null) metadata.user_id = entry.user_id;
      await index.upsert([{ id: await vectorId(productId, entry.id), values: [...vector], metadata }]);
    },
    async query(vector, userId, topK) {
      const filter: VectorizeVectorMetadataFilter = userId === undefined ? { product_id: productId } : { product_id: productId, user_id: userId };
      const { matches } = await index.query([...vector], { topK: Math.min(topK, VECTORIZE_MAX_TOP_K), filter, returnMetadata: "all" });
      // The filter is Vectorize's; the product check is ours too, so a misconfigured filter cannot leak.
      return matches.filter((m) => m.metadata?.product_id === productId).flatMap((m) => (typeof m.metadata?.memory_id === "string" ? [m.metadata.memory_id] : []));
    },
    async remove(ids) {
      if (ids.length === 0) return;
      await index.deleteByIds(await Promise.all(ids.map((id) => vectorId(productId, id))));
    },
  };
}

export const DEFAULT_AI_EMBED_MODEL = "@cf/baai/bge-base-en-v1.5";

/** The Workers AI binding as an embedder (`{ text: [...] }` → `{ data: number[][] }`); a throw or an odd answer retries. */
export function workersAiEmbedder(ai: NonNullable<MemoryBindings["AI"]>, model: string): Embed {
  return async (input) => {
    let answer: unknown;
    try {
      answer = await ai.run(model, { text: [...input] });
    } catch (err) {
      return retry(`Workers AI embedding failed (${err instanceof Error ? err.name : "error"})`);
    }
    const data = (answer as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length !== input.length || !data.every((v) => Array.isArray(v) && v.every((x) => typeof x === "number"))) {
      return retry(`Workers AI answered without ${input.length} embedding(s)`);
    }
    return done({ vectors: (data as number[][]).map((v) => Float32Array.from(v)) });
  };
}
