/**
 * @module
 * DELIVERY=replace: a lane's note goes out as an edit of the session's one context message, which
 * then shows the lane's newest summary (posted, prepared, or this note) and every raw note that
 * summary does not cover (posted, prepared, or this note). Summary first holds by construction: an
 * edit leaves out only raw notes of windows a summary in the same text covers.
 */
import { REPLACE_NEEDS_ROLLING } from "../../config/destination";
import type { ContextMessage, Destination, OutgoingNote, PostResult } from "../../destinations/types";
import { failed } from "../../result";
import { SUMMARY_ORIGIN } from "../../llm/types";
import type { LaneRow, NoteRow, SessionRow } from "../store/schema";
import { noteKey, sessionRef } from "./notes";
import type { StepDeps } from "./stepDeps";

/** The lane's context message as it reads once `note` is in it. */
export function contextWith(deps: StepDeps, s: SessionRow, lane: LaneRow, note: NoteRow, extractive: boolean): ContextMessage {
  // Every note the lane holds, not only the posted ones: an edit whose answer was lost may show a
  // summary or a burst already, and the next edit must not take that back.
  const notes = [...deps.store.laneNotes(lane.id).filter((n) => n.id !== note.id), note];
  const newest = notes.filter((n) => n.kind === "summary").sort((a, b) => a.window_id - b.window_id).at(-1);
  const covered = Math.max(lane.covered_window, newest?.window_id ?? 0);
  const isExtractive = (n: NoteRow) => (n.id === note.id ? extractive : (deps.store.window(n.window_id)?.extractive ?? SUMMARY_ORIGIN.llm) !== SUMMARY_ORIGIN.llm);
  return {
    key: `${s.epoch}-c${lane.id}`,
    editKey: noteKey(s.epoch, note.id),
    summary: newest ? { text: newest.body, window: newest.window_id, extractive: isExtractive(newest) } : null,
    adds: note.kind,
    raw: notes.filter((n) => n.kind === "raw" && n.window_id > covered).map((n) => ({ text: n.body, window: n.window_id })),
    updatedAt: note.created_at,
  };
}

/**
 * Writes the edit (`destination` has `replace`). The message's part id is the lane's for the note's link; a first write whose
 * outcome is unknown is looked up first (by the message's marker) where the destination can, so a
 * lost answer never leaves two context messages.
 */
export async function replaceContext(
  deps: StepDeps,
  s: SessionRow,
  lane: LaneRow,
  destination: Destination,
  note: NoteRow,
  out: OutgoingNote,
  outcomeUnknown: boolean,
): Promise<PostResult> {
  // A product may set independent mode over an environment's replace lane: park, saying what to change.
  if (deps.config.mode !== "rolling") return failed(REPLACE_NEEDS_ROLLING);
  const context = contextWith(deps, s, lane, note, out.extractive);
  const ref = sessionRef(s, note.link);
  let partId = lane.context_part !== null && lane.context_of === (note.link ?? "") ? lane.context_part : null;
  if (partId === null && outcomeUnknown && destination.find) {
    const found = await destination.find(ref, { ...out, key: context.key });
    if (found.kind !== "done") return found;
    partId = found.partId;
  }
  return destination.replace!(ref, context, partId);
}

/** On done, in settle's transaction: the lane's context message is `partId`; what it no longer shows is forgotten. */
export function settleReplaced(deps: StepDeps, lane: LaneRow, note: NoteRow, partId: string): void {
  deps.store.setContextPart(lane.id, note.link ?? "", partId);
  deps.store.dropReplaced(lane.id);
}
