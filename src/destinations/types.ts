/**
 * @module
 * The destination contract. A destination maps its API's answers onto the one result type
 * (`src/result.ts`): done, retry later (with the API's own delay when it gives one), failed for
 * good, or held (not attempted: a pacer holds it).
 */
import type { Result } from "../result";
import type { SlimAction } from "../session/model";

/** Who a note belongs to and where it goes. `link` is the conversation/channel id, if any. */
export interface SessionRef {
  productId: string;
  sessionId: string;
  link: string | null;
  /** The session's user and email as last seen, for receivers that take them with each payload (`autoplay`, the stream). */
  userId?: string | null;
  email?: string | null;
}

export type NoteKind = "raw" | "summary";

export interface OutgoingNote {
  /** Stable across retries and actor restarts: a webhook-id, or the visible marker in an Intercom note. */
  key: string;
  kind: NoteKind;
  /** Plain-text rendering (the SDK's `to_text` for raw notes, the summary text for summaries). */
  text: string;
  /** Raw notes: the actions in arrival order. Summary notes: empty. */
  actions: SlimAction[];
  /** Raw notes: the same actions batch by batch, as accepted (a note may hold several batches of one burst). */
  batches?: SlimAction[][];
  /** Summary notes: the summary. Raw notes: null. */
  summary: string | null;
  /** Summary notes: the window summarised. Raw notes: the newest window among their actions. */
  window: number;
  /** Summary notes: how many actions the summarised window holds (the SDK's `replaces`). */
  replaces?: number;
  /** True when the summary came from the built-in extractive summariser, not an LLM. */
  extractive: boolean;
  /** When the note was first prepared (ms since epoch). */
  createdAt: number;
}

export interface PostedPart {
  key: string;
  kind: NoteKind;
  partId: string;
  /** The link the note was posted to (redaction goes there even after a relink). */
  link: string | null;
}

export type { Failed, Retry } from "../result";

export type PostResult = Result<{ partId: string }>;
export type RedactResult = Result;
/** After an unknown outcome: the note's part id when it is there, null when it is not. */
export type FindResult = Result<{ partId: string | null }>;

export interface Destination {
  readonly name: string;
  /** True when notes can only be written once the session has a link (conversation id). */
  readonly needsLink: boolean;
  /** Post a note. Must be safe to repeat with the same `note.key` after `find` says it is absent. */
  post(session: SessionRef, note: OutgoingNote): Promise<PostResult>;
  /** Remove a posted note. A part that is already gone counts as done. */
  redact(session: SessionRef, part: PostedPart): Promise<RedactResult>;
  /**
   * Optional reconciliation after a post whose outcome is unknown: look for `note.key`.
   * Without it the post is simply repeated, which is right when the receiver dedupes on the key.
   */
  find?(session: SessionRef, note: OutgoingNote): Promise<FindResult>;
  /**
   * Optional, for a destination that groups a session's notes inside its link (Slack: a channel-only
   * link gets a thread, started by a short header message). Answers the link the notes go to. The core
   * keeps the answer per lane and link, so it is asked once per link; `mayExist` says an earlier attempt
   * may have started it without learning so (look before starting another). `key` is stable per lane.
   */
  openThread?(session: SessionRef, key: string, mayExist: boolean): Promise<ThreadResult>;
  /**
   * Present only when the destination is configured with DELIVERY=replace: writes the session's one
   * context message, creating it (`partId` null) or rewriting it in place, and answers its part id.
   * Must be safe to repeat with the same text. A lane that replaces never redacts.
   */
  replace?(session: SessionRef, context: ContextMessage, partId: string | null): Promise<PostResult>;
}

export type ThreadResult = Result<{ link: string }>;

/**
 * DELIVERY=replace: what the session's one context message in a lane shows now, the latest summary
 * first, then every raw note since, oldest first.
 */
export interface ContextMessage {
  /** The message's identity, stable for the lane (Slack's visible marker; the webhook's `message_id`). */
  key: string;
  /** This edit's key, unique per edit (the webhook-id). */
  editKey: string;
  /** The newest posted summary (rolling: it covers every earlier window), or null before the first. */
  summary: { text: string; window: number; extractive: boolean } | null;
  /** What this edit adds: a burst's raw note, or a summary. */
  adds: "raw" | "summary";
  /** The raw notes the summary does not cover, as the SDK's `to_text`, oldest first, with the newest window among their actions. */
  raw: readonly { text: string; window: number }[];
  /** When this edit was prepared (ms since epoch). */
  updatedAt: number;
}

/** One payload for a product's stream (JSON), kept once per key. */
export interface StreamEvent {
  key: string;
  data: string;
}

/** What every destination is given: the outside world, injected so tests can fake it. */
export interface DestinationDeps {
  fetch: typeof fetch;
  now: () => number;
  /** Timeout for each outbound request (ms). A timeout is an unknown outcome, never a success. */
  timeoutMs: number;
  /** Appends a payload (JSON) to a product's stream, once per key (`src/stream/hub.ts`); absent where there is no hub. */
  publish?: (productId: string, events: readonly StreamEvent[]) => Promise<void>;
}
