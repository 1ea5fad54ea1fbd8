/**
 * @module
 * The Autoplay connector's wire payloads, built once for both ways out that speak it: the
 * `autoplay` push (signed POSTs) and the product stream (`GET /stream/:product_id`). A raw note
 * is an `actions` payload (the batch, or the batches of one burst in order, as the SDK's `merge`
 * joins them); a summary note is a `summary` payload whose `replaces` is the actions of the window
 * it summarises. Pure.
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

/** The payload of a note, forwarded at `now` (ms). */
export function autoplayPayload(session: SessionRef, note: OutgoingNote, now: number): AutoplayWire {
  const base = { product_id: session.productId, session_id: session.sessionId, forwarded_at: now / 1000 };
  if (note.kind === "summary") {
    return { type: "summary", ...base, summary: note.summary ?? note.text, replaces: note.replaces ?? 0 };
  }
  return {
    type: "actions",
    product_id: base.product_id,
    session_id: base.session_id,
    user_id: session.userId ?? null,
    email: session.email ?? null,
    conversation_id: session.link,
    count: note.actions.length,
    forwarded_at: base.forwarded_at,
    actions: note.actions,
  };
}
