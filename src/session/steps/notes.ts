/**
 * @module
 * Notes as the destination sees them: their idempotency key, whose session they belong to, what
 * is posted, and posting itself, which first looks up a note whose earlier post may have landed.
 */
import type { Destination, OutgoingNote, PostResult, SessionRef } from "../../destinations/types";
import { done, type Result } from "../../result";
import type { LaneRow, NoteRow, SessionRow } from "../store/schema";
import { replaceContext } from "./contextMessage";
import type { StepDeps } from "./stepDeps";

/** Stable across retries and evictions; the epoch keeps an erased session's keys from being reused. */
export function noteKey(epoch: string, noteId: number): string {
  return `${epoch}-n${noteId}`;
}

export function sessionRef(s: SessionRow, link: string | null): SessionRef {
  return { productId: s.product_id, sessionId: s.session_id, link, userId: s.user_id, email: s.email };
}

function outgoing(deps: StepDeps, s: SessionRow, note: NoteRow, extractive: boolean, replaces: number): OutgoingNote {
  const batches = note.kind === "raw" ? deps.store.noteBatches(note) : [];
  return {
    key: noteKey(s.epoch, note.id),
    kind: note.kind,
    text: note.body,
    actions: batches.flat(),
    ...(note.kind === "raw" && { batches }),
    summary: note.kind === "summary" ? note.body : null,
    window: note.window_id,
    ...(note.kind === "summary" && { replaces }),
    extractive,
    createdAt: note.created_at,
  };
}

/**
 * Posts a prepared note (under DELIVERY=replace, as an edit of the context message). A note
 * prepared by an earlier run whose outcome is unknown (a timeout, or the actor stopped mid-post and
 * recorded nothing) is looked up first where the destination can, and re-posted only if absent.
 * `replaces`: a summary's window's action count.
 */
export async function postNote(
  deps: StepDeps,
  s: SessionRow,
  note: NoteRow,
  key: string,
  extractive: boolean,
  preparedNow: boolean,
  replaces = 0,
): Promise<PostResult> {
  const lane = deps.store.lane(note.lane ?? 0);
  if (!lane) throw new Error("the note's lane is gone");
  const destination = deps.destination(lane.destination);
  const out = outgoing(deps, s, note, extractive, replaces);
  const record = deps.store.step(key);
  const outcomeUnknown = !preparedNow && (record === null || record.unknown_outcome === 1);
  if (destination.replace) return replaceContext(deps, s, lane, destination, note, out, outcomeUnknown);
  const where = await threadLink(deps, s, lane, destination, note.link, !preparedNow);
  if (where.kind !== "done") return where;
  const ref = sessionRef(s, where.link);
  if (outcomeUnknown && destination.find) {
    const found = await destination.find(ref, out);
    if (found.kind !== "done") return found;
    if (found.partId !== null) return { kind: "done", partId: found.partId };
  }
  return destination.post(ref, out);
}

/**
 * Where a lane's note goes: its own link, or the thread the destination keeps inside it (asked once
 * per lane and link, and kept on the lane before any note is posted there).
 * @param mayExist an earlier run may have opened it without recording it (a rerun of a prepared note)
 */
async function threadLink(
  deps: StepDeps,
  s: SessionRow,
  lane: LaneRow,
  destination: Destination,
  link: string | null,
  mayExist: boolean,
): Promise<Result<{ link: string | null }>> {
  if (!destination.openThread) return done({ link });
  const of = link ?? "";
  if (lane.thread !== null && lane.thread_of === of) return done({ link: lane.thread });
  const opened = await destination.openThread(sessionRef(s, link), `${s.epoch}-t${lane.id}`, mayExist);
  if (opened.kind !== "done") return opened;
  deps.store.tx(() => deps.store.setLaneThread(lane.id, of, opened.link));
  return done({ link: opened.link });
}
