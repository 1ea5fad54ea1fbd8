/**
 * @module
 * Memory search, as the REST route and the MCP tool `search_memory` both answer it: one RPC to the
 * product's actor, which holds only that product's summaries.
 */
import type { MemoryResults } from "../http/memorySchemas";
import { productStub } from "../product/client";
import { MEMORY_LIMITS } from "../product/memory/types";

export async function readMemory(env: Env, productId: string, q: string, userId: string | undefined, limit: number = MEMORY_LIMITS.defaultLimit): Promise<MemoryResults> {
  const answer = await productStub(env, productId).searchMemory({ q, limit, ...(userId === undefined ? {} : { userId }) });
  return {
    product_id: productId,
    query: q,
    memory: answer.memory,
    ranking: answer.memory === "on" ? answer.ranking : "none",
    results: answer.hits.map((h) => ({ ...h, time: new Date(h.time).toISOString() })),
  };
}

/** The answer as text for a model: one line per summary, or why there is none. */
export function memoryText(r: MemoryResults): string {
  if (r.memory === "off") return `Memory is off for product ${r.product_id} (MEMORY=off): no summaries are kept to search.`;
  if (r.results.length === 0) return `No summary of product ${r.product_id} matches "${r.query}".`;
  return r.results
    .map((h, i) => `${i + 1}. [${h.time}] user ${h.user_id ?? "(none)"}, session ${h.session_id}, window ${h.window}: ${h.summary}`)
    .join("\n");
}
