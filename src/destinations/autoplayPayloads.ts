/**
 * @module
 * The Autoplay connector's wire payloads, built once for both ways out that speak it: the
 * `autoplay` push (signed POSTs) and the product stream (`GET /stream/:product_id`). A raw note
 * is one `actions` payload per batch it holds (a lane that was busy sends a burst's batches in one
 * note), a summary note one `summary` payload whose `replaces` is the actions of the window it
 * summarises. Pure.
 */
import type { SlimAction } from "../session/model";
import type { OutgoingNote, SessionRef } from "./types";

/** `ActionsPayload` as the SDK reads it (`count` is `actions.length`, `forwarded_at` unix seconds). */
export interface ActionsWire {
  type: "actions";
  product_id: string;
  session_id: string;
  user_id: string | null;
  email: string | null;
  conversation_id: string | null;
  count: number;
  forwarded_at: number;
  actions: SlimAction[];
}

/** `SummaryPayload`: no identity fields, as the SDK's model has none. */
export interface SummaryWire {
  type: "summary";
  product_id: string;
  session_id: string;
  summary: string;
  replaces: number;
  forwarded_at: number;
}

export type AutoplayWire = ActionsWire | SummaryWire;

/**
 * The payloads of a note, forwarded at `now` (ms): one `actions` payload per batch it holds, as
 * each was accepted, or its `summary` payload.
 */
export function autoplayPayloads(session: SessionRef, note: OutgoingNote, now: number): AutoplayWire[] {
  const base = { product_id: session.productId, session_id: session.sessionId };
  const forwarded_at = now / 1000;
  if (note.kind === "summary") {
    return [{ type: "summary", ...base, summary: note.summary ?? note.text, replaces: note.replaces ?? 0, forwarded_at }];
  }
  const identity = { user_id: session.userId ?? null, email: session.email ?? null, conversation_id: session.link };
  return (note.batches ?? [note.actions]).map((actions) => ({ type: "actions", ...base, ...identity, count: actions.length, forwarded_at, actions }));
}

/** Each payload's key: the note's, and the batch's place in it. */
export const payloadKey = (noteKey: string, i: number): string => `${noteKey}.${i}`;
