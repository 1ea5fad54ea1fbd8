/**
 * @module
 * What the session sends its product's memory, and which summaries it keeps for it. Pure.
 *
 * Each stored summary goes to memory once, oldest first, under a stable id
 * (`${session}:${epoch}:${window}`), so a rerun after eviction or a duplicate alarm rewrites the
 * same entry. While memory cannot be written the session keeps the summaries it has not sent, at
 * most {@link MEMORY_MAX_LAG_WINDOWS} behind its newest; past that the oldest go unsent (pruned as
 * before memory), so a long outage costs O(1) rows, as a lagging lane does.
 */
import { memoryId, type MemoryEntry } from "../product/memory/types";
import type { SessionRow, WindowRow } from "./store/schema";

export const MEMORY_MAX_LAG_WINDOWS = 32;

/** Summaries of windows after this one are kept for memory (pruning spares them). */
export const memoryFloor = (memorisedWindow: number, ownCovered: number): number => Math.max(memorisedWindow, ownCovered - MEMORY_MAX_LAG_WINDOWS);

export function memoryEntry(s: Pick<SessionRow, "session_id" | "epoch" | "user_id">, w: WindowRow & { summary: string }): MemoryEntry {
  return {
    id: memoryId(s.session_id, s.epoch, w.id),
    session_id: s.session_id,
    epoch: s.epoch,
    user_id: s.user_id,
    window: w.id,
    time: w.summarised_at ?? w.closed_at,
    extractive: w.extractive === 1,
    text: w.summary,
  };
}
