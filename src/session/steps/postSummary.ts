/**
 * @module
 * Step 3, post summary: in one lane, the stored summary becomes a summary note (prepared before
 * any I/O, so a rerun resumes the same note), posted to the lane's destination. Once confirmed,
 * its window and every earlier one are covered in that lane.
 */
import { SUMMARY_ORIGIN } from "../../llm/types";
import { done } from "../../result";
import type { StepOf } from "../plan";
import { settleReplaced } from "./contextMessage";
import { postNote } from "./notes";
import type { StepFn } from "./stepDeps";

export const postSummary: StepFn<StepOf<"post-summary">> = async (deps, s, step) => {
  const { store } = deps;
  const lane = store.lane(step.lane);
  const window = store.window(step.window);
  if (!lane || lane.covered_window >= step.window || !window || window.summary === null) return null;
  const { summary } = window;
  deps.destination(lane.destination); // unusable settings fail here, before a note is prepared
  const resumed = store.summaryNote(lane.id, step.window);
  const note = resumed ?? store.note(store.tx(() => store.createSummaryNote(lane.id, step.window, summary, s.link, deps.now())))!;
  const result = await postNote(deps, s, note, step.key, window.extractive !== SUMMARY_ORIGIN.llm, resumed === null, window.action_count);
  if (result.kind !== "done") return { key: step.key, result };
  const { partId } = result;
  return {
    key: step.key,
    result: done(),
    onDone: () => {
      const current = store.note(note.id);
      if (!current || current.posted_at !== null) return;
      store.markSummaryPosted(lane.id, note.id, step.window, partId, deps.now());
      if (deps.destination(lane.destination).replace) settleReplaced(deps, lane, note, partId);
      store.prune(deps.config.mode === "rolling");
    },
  };
};
