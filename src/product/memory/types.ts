/**
 * @module
 * What memory holds and answers: one entry per stored summary, sent by the session's memory step,
 * and the hits a search returns.
 */

/** One summary, as the session's `memory:<window>` step sends it to its product. */
export interface MemoryEntry {
  /** `${session_id}:${epoch}:${window}`: stable across retries, eviction and duplicate alarms, so an entry is written once. */
  id: string;
  session_id: string;
  epoch: string;
  user_id: string | null;
  window: number;
  /** When the summary was made (epoch ms). */
  time: number;
  extractive: boolean;
  text: string;
}

export interface MemoryQuery {
  q: string;
  userId?: string;
  limit: number;
}

export interface MemoryHit {
  summary: string;
  session_id: string;
  user_id: string | null;
  window: number;
  time: number;
  extractive: boolean;
  /** Higher is better: BM25 (negated) alone, or the fused reciprocal rank when vectors take part. */
  score: number;
}

/** A search's answer: the hits, or that memory is off for the product (no entry was ever kept). */
export type MemoryAnswer = { memory: "on"; ranking: "fts" | "hybrid"; hits: MemoryHit[] } | { memory: "off"; hits: [] };

export const MEMORY_LIMITS = {
  defaultLimit: 10,
  maxLimit: 50,
  maxQueryChars: 1_000,
  /** Exact cosine scans at most this many of the product's newest vectors (per user when filtered). */
  vectorScanCap: 10_000,
} as const;

export const memoryId = (sessionId: string, epoch: string, window: number): string => `${sessionId}:${epoch}:${window}`;
