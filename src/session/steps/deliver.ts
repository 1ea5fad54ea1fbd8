/**
 * @module
 * Step 1, deliver: batches pending delivery become one raw note (prepared before any I/O, so a
 * rerun resumes the same note), posted to the destination; its part id is kept for redaction.
 */
import type { PostResult } from "../../destinations/types";
import { done } from "../../result";
import { mergePayloads, payloadToText, type ActionsPayload, type SlimAction } from "../model";
import type { StepOf } from "../plan";
import type { LaneRow, NoteRow, SessionRow } from "../store/schema";
import { settleReplaced } from "./contextMessage";
import { postNote } from "./notes";
import { thrown, type StepDeps, type StepFn } from "./stepDeps";

/** Most actions one raw note carries; a longer backlog goes out as several notes, in order. */
export const MAX_NOTE_ACTIONS = 200;

/**
 * The note's text as the SDK's writer makes it: without a debounce, `to_text()` of what arrived,
 * which keeps each action's wire index; under a debounce, of the burst's `merge()`, which
 * re-indexes it from 0.
 */
function rawText(s: SessionRow, actions: SlimAction[], debounced: boolean): string {
  const payload: ActionsPayload = {
    product_id: s.product_id,
    session_id: s.session_id,
    user_id: s.user_id,
    email: s.email,
    conversation_id: s.link,
    forwarded_at: 0,
    actions,
  };
  return payloadToText(debounced ? mergePayloads([payload]) : payload);
}

/** Prepares the lane's next raw note from its oldest pending batches (one window at most), or null if none wait. */
function prepareRawNote(deps: StepDeps, s: SessionRow, lane: LaneRow): NoteRow | null {
  const { store } = deps;
  const batches = store.pendingBatches(lane, s, MAX_NOTE_ACTIONS);
  if (batches.length === 0) return null;
  const actions = batches.flatMap((b) => JSON.parse(b.actions) as SlimAction[]);
  const id = store.tx(() => store.createRawNote(lane.id, batches, rawText(s, actions, deps.config.debounceMs > 0), s.link, deps.now()));
  return store.note(id);
}

export const deliver: StepFn<StepOf<"deliver">> = async (deps, s, step) => {
  const { store } = deps;
  const lane = store.lane(step.lane);
  if (!lane) return null;
  deps.destination(lane.destination); // unusable settings fail here, before a note is prepared
  const resumed = step.noteId === null ? null : store.note(step.noteId);
  const note = resumed ?? prepareRawNote(deps, s, lane);
  if (!note) return null;
  // From here on the step is the note's: a retry, even after a throw, resumes this note.
  const key = `deliver:${note.id}`;
  let result: PostResult;
  try {
    result = await postNote(deps, s, note, key, false, resumed === null);
  } catch (err) {
    return thrown(key, err);
  }
  if (result.kind !== "done") return { key, result };
  const { partId } = result;
  return {
    key,
    result: done(),
    onDone: () => {
      const current = store.note(note.id);
      if (!current || current.posted_at !== null) return;
      store.markRawPosted(lane.id, note.id, partId, deps.now());
      if (deps.destination(lane.destination).replace) settleReplaced(deps, lane, note, partId);
      store.prune(deps.config.mode === "rolling");
    },
  };
};
