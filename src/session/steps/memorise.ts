/**
 * @module
 * The memory step (`memory:<window>`), in its own lane: a stored summary goes to the product's
 * memory (one RPC; the product embeds and upserts it under its stable id). A failing embedder or
 * store backs off, retries and parks here alone, visible in the session state, and never holds
 * back notes or summaries. Once it lands the session records the window (with its next write), so it is sent once.
 */
import { memoryEntry } from "../memorising";
import type { StepOf } from "../plan";
import type { StepFn } from "./stepDeps";

export const memorise: StepFn<StepOf<"memory">> = async (deps, s, step) => {
  if (!deps.memory || s.memorised_window >= step.window) return null;
  const w = deps.store.window(step.window);
  if (!w || w.summary === null) return null;
  const result = await deps.memory(memoryEntry(s, { ...w, summary: w.summary }));
  return {
    key: step.key,
    result,
    onDone: () => {
      deps.store.markMemorised(s.epoch, step.window);
      // An older summary than the session's newest (sent again after an eviction lost the record of
      // it) was kept for memory by the last pruning: it may go now.
      if (step.window < (deps.store.session()?.covered_window ?? 0)) deps.store.prune(deps.config.mode === "rolling");
    },
  };
};
