/**
 * Helpers for the memory tests: entries written straight to a product's memory (as a session's
 * memory step sends them), searches through the Worker, and what a product's memory holds.
 */
import { runInDurableObject } from "cloudflare:test";
import type { MemoryEntry } from "../../src/product/memory/types";
import { auth, request } from "./api";
import { productStub } from "./products";

export interface SearchBody {
  memory: "on" | "off";
  ranking: string;
  results: { summary: string; session_id: string; user_id: string | null; window: number; time: string; score: number; extractive: boolean }[];
}

let seq = 0;

/** An entry of window 1 of a new session, unless told otherwise. */
export function entry(text: string, extra: Partial<MemoryEntry> = {}): MemoryEntry {
  seq += 1;
  const session_id = extra.session_id ?? `mem-s${seq}`;
  const epoch = extra.epoch ?? "e1";
  const window = extra.window ?? 1;
  return { id: `${session_id}:${epoch}:${window}`, session_id, epoch, user_id: "u-1", window, time: 1_760_000_000_000 + seq, extractive: false, text, ...extra };
}

export async function remember(productId: string, ...entries: MemoryEntry[]): Promise<void> {
  for (const e of entries) {
    const result = await productStub(productId).remember(e);
    if (result.kind !== "done") throw new Error(`not remembered: ${JSON.stringify(result)}`);
  }
}

export async function search(productId: string, query: Record<string, string>, headers: Record<string, string> = auth): Promise<{ status: number; body: SearchBody }> {
  const res = await request(`/v1/products/${productId}/search?${new URLSearchParams(query).toString()}`, { headers });
  return { status: res.status, body: (await res.json()) as SearchBody };
}

/** The ids of the product's memory entries, how many rows its text index has (one per entry), and how many have a vector. */
export async function memoryRows(productId: string): Promise<{ ids: string[]; fts: number; vectors: number }> {
  return runInDurableObject(productStub(productId), (_i, state) => {
    const ids = state.storage.sql.exec<{ id: string }>("SELECT id FROM memory_entries ORDER BY id").toArray().map((r) => r.id);
    const fts = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM memory_entries").one().n;
    const vectors = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM memory_entries WHERE vector IS NOT NULL").one().n;
    return { ids, fts, vectors };
  });
}
