/**
 * @module
 * A product's memory: what the product actor does with an entry its session sends, how it answers
 * a search, and how a session's entries go. The product embeds (not the session): one RPC per
 * summary either way, and the embedder's settings, the vectors and the query's embedding all live
 * in one place. An embedder's or a vector store's failure comes back as the result, so it retries
 * and parks in the session's own memory step.
 *
 * Text and metadata are always in the product's SQLite; vectors are there too unless a Vectorize
 * index is bound (`vectors`), which then holds them instead.
 */
import { done, retry, type Result } from "../../result";
import type { Embed } from "./embeddings";
import type { MemoryStore } from "./memoryStore";
import { cosine, ftsMatch, fuseRankings } from "./ranking";
import type { MemoryAnswer, MemoryEntry, MemoryQuery } from "./types";
import type { VectorIndex } from "./vectorize";

export interface Memory {
  store: MemoryStore;
  /** Null: full text only. */
  embed: Embed | null;
  /** Null: vectors in the product's SQLite (exact cosine). */
  vectors: VectorIndex | null;
}

const errorName = (err: unknown) => (err instanceof Error ? err.name : "error");

/** Embeds the entry's text (when an embedder is set), then upserts it under its id, vector first. */
export async function remember({ store, embed, vectors }: Memory, entry: MemoryEntry): Promise<Result> {
  let vector: Float32Array | null = null;
  if (embed) {
    const embedded = await embed([entry.text]);
    if (embedded.kind !== "done") return embedded;
    vector = embedded.vectors[0] ?? null;
  }
  if (vector && vectors) {
    try {
      await vectors.upsert(entry, vector);
    } catch (err) {
      return retry(`the vector index could not be written (${errorName(err)})`);
    }
    vector = null;
  }
  store.upsert(entry, vector);
  return done();
}

/** The most similar entries by vector, best first: the bound index's, or exact cosine over the newest in SQLite. */
async function byVector({ store, vectors }: Memory, q: Float32Array, userId: string | undefined, depth: number): Promise<string[]> {
  if (vectors) return vectors.query(q, userId, depth);
  return store
    .vectors(userId)
    .map((v) => ({ id: v.id, similarity: cosine(q, v.vector) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, depth)
    .map((v) => v.id);
}

/**
 * BM25 over the text; with an embedder, also the vector ranking, the two fused by reciprocal rank
 * (`ranking.ts`). A query that cannot be embedded or looked up now still answers, by text.
 */
export async function search(memory: Memory, query: MemoryQuery): Promise<MemoryAnswer> {
  const { store, embed } = memory;
  const match = ftsMatch(query.q);
  const depth = query.limit * 4;
  const text = match === null ? [] : store.searchText(match, query.userId, depth);
  const byText = (): MemoryAnswer => ({ memory: "on", ranking: "fts", hits: text.slice(0, query.limit).map(({ id: _id, ...hit }) => hit) });
  const embedded = embed ? await embed([query.q]) : null;
  if (!embedded || embedded.kind !== "done" || !embedded.vectors[0]) return byText();
  let similar: string[];
  try {
    similar = await byVector(memory, embedded.vectors[0], query.userId, depth);
  } catch {
    return byText();
  }
  const fused = fuseRankings([text.map((h) => h.id), similar]).slice(0, query.limit);
  const scores = new Map(fused.map((f) => [f.id, f.score]));
  // Every hit is read back from this product's SQLite: an id it does not hold is never answered.
  return { memory: "on", ranking: "hybrid", hits: store.byIds(fused.map((f) => f.id), (id) => scores.get(id) ?? 0) };
}
