/**
 * @module
 * The index step, in its own lane: the session writes its entry to its product's index (one RPC
 * to the product actor), so listing sessions never asks every session and ingest never writes the
 * index. A failure backs off and retries as any step does, and never holds back the destination
 * or the LLM lanes; it runs once their due work is done, so the entry shows the session settled.
 * What it sent is recorded, so the plan knows when the entry is due again.
 */
import type { StepOf } from "../plan";
import { indexEntry, indexState, userUnindexed } from "../indexing";
import type { StepFn } from "./stepDeps";

export const indexSession: StepFn<StepOf<"index">> = async (deps, s, step) => {
  if (!deps.index) return null;
  const steps = deps.store.steps();
  const state = indexState(s, steps);
  // Written before the other lanes settle (runners.ts): its counts are written again, settled,
  // when activity is next due (INDEX_ACTIVITY_INTERVAL_MS).
  const early = userUnindexed(s);
  const result = await deps.index(indexEntry(s, steps, deps.store.noteCounts(), deps.config.retentionMs));
  return {
    key: step.key,
    result,
    onDone: () => deps.store.markIndexed(state, early ? null : s.last_action_at, deps.now()),
  };
};
