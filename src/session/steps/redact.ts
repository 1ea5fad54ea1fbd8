/**
 * @module
 * Step 4, redact: a posted note that the summaries posted in its lane now cover is removed from
 * the lane's destination.
 * Summary first: the note is re-read, and goes only if it is still covered.
 */
import type { StepOf } from "../plan";
import { noteKey, sessionRef } from "./notes";
import type { StepFn } from "./stepDeps";

export const redact: StepFn<StepOf<"redact">> = async (deps, s, step) => {
  const { store, config } = deps;
  const lane = store.lane(step.lane);
  const note = store.note(step.noteId);
  if (!lane || !note || note.lane !== lane.id || note.posted_at === null || note.part_id === null) return null;
  const rolling = config.mode === "rolling";
  const covered = note.kind === "raw" ? note.window_id <= lane.covered_window : rolling && note.window_id < lane.covered_window;
  if (!covered) return null;
  const result = await deps.destination(lane.destination).redact(sessionRef(s, note.link), {
    key: noteKey(s.epoch, note.id),
    kind: note.kind,
    partId: note.part_id,
    link: note.link,
  });
  return {
    key: step.key,
    result,
    onDone: () => {
      if (!store.note(step.noteId)) return;
      store.markRedacted(lane.id, step.noteId);
      store.prune(rolling);
    },
  };
};
