/**
 * @module
 * A product's memory: what the product actor does with an entry its session sends, and how it
 * answers a search. The product embeds (not the session): one RPC per summary either way, and the
 * embedder's settings, the vectors and the query's embedding all live in one place. An embedder's
 * failure comes back as the result, so it retries and parks in the session's own memory step.
 */
import { done, type Result } from "../../result";
import type { Embed } from "./embeddings";
import type { MemoryStore } from "./memoryStore";
import { cosine, ftsMatch, fuseRankings } from "./ranking";
import type { MemoryAnswer, MemoryEntry, MemoryQuery } from "./types";

/** Embeds the entry's text (when an embedder is set), then upserts it under its id. */
export async function remember(store: MemoryStore, embed: Embed | null, entry: MemoryEntry): Promise<Result> {
  let vector: Float32Array | null = null;
  if (embed) {
    const embedded = await embed([entry.text]);
    if (embedded.kind !== "done") return embedded;
    vector = embedded.vectors[0] ?? null;
  }
  store.upsert(entry, vector);
  return done();
}

/**
 * BM25 over the text; with an embedder, also exact cosine over the newest vectors, the two fused
 * by reciprocal rank (`ranking.ts`). A query the embedder cannot embed now still answers, by text.
 */
export async function search(store: MemoryStore, embed: Embed | null, query: MemoryQuery): Promise<MemoryAnswer> {
  const match = ftsMatch(query.q);
  const depth = query.limit * 4;
  const text = match === null ? [] : store.searchText(match, query.userId, depth);
  const embedded = embed ? await embed([query.q]) : null;
  if (!embedded || embedded.kind !== "done" || !embedded.vectors[0]) {
    return { memory: "on", ranking: "fts", hits: text.slice(0, query.limit).map(({ id: _id, ...hit }) => hit) };
  }
  const q = embedded.vectors[0];
  const byCosine = store
    .vectors(query.userId)
    .map((v) => ({ id: v.id, similarity: cosine(q, v.vector) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, depth)
    .map((v) => v.id);
  const fused = fuseRankings([text.map((h) => h.id), byCosine]).slice(0, query.limit);
  const scores = new Map(fused.map((f) => [f.id, f.score]));
  return { memory: "on", ranking: "hybrid", hits: store.byIds(fused.map((f) => f.id), (id) => scores.get(id) ?? 0) };
}
