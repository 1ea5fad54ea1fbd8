/**
 * @module
 * Reading Intercom's Conversation answers: which part is the note we just posted, and whether a note
 * whose post timed out is there. Pure; never trusts a part's position in the list.
 */
import { bodyHasMarker } from "./intercomFormat";

/** The parts of Intercom's ConversationPart this destination reads. */
export interface PartView {
  id: string;
  partType: string;
  body: string | null;
  createdAt: number;
  authorId: string | null;
}

/** `conversation.conversation_parts.conversation_parts[]`, tolerant of missing or odd fields. */
export function readParts(conversation: unknown): PartView[] {
  const list = field(field(conversation, "conversation_parts"), "conversation_parts");
  if (!Array.isArray(list)) return [];
  return list.flatMap((p): PartView[] => {
    const id = field(p, "id");
    if (typeof id !== "string" && typeof id !== "number") return [];
    const author = field(p, "author");
    const authorId = field(author, "id");
    const body = field(p, "body");
    const createdAt = field(p, "created_at");
    return [{
      id: String(id),
      partType: String(field(p, "part_type") ?? ""),
      body: typeof body === "string" ? body : null,
      createdAt: typeof createdAt === "number" ? createdAt : 0,
      authorId: typeof authorId === "string" || typeof authorId === "number" ? String(authorId) : null,
    }];
  });
}

/** Newest first: by `created_at`, then by id (Intercom part ids grow), so a tie never picks by position. */
function newest(parts: PartView[]): PartView | undefined {
  const byId = (a: string, b: string) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);
  return [...parts].sort((a, b) => b.createdAt - a.createdAt || byId(b.id, a.id))[0];
}

/**
 * The part a note post created, found in the returned conversation without trusting positions:
 * notes authored by our admin that carry the note's marker, newest first. If the marker is nowhere
 * (a sanitiser changed it) the post is still identified when exactly one note of our admin is in the
 * answer, as in the spec's own example that returns only the new part; otherwise null.
 */
export function pickPostedPart(conversation: unknown, adminId: string, key: string): string | null {
  const ours = readParts(conversation).filter((p) => p.partType === "note" && p.authorId === adminId);
  const marked = ours.filter((p) => bodyHasMarker(p.body, key));
  if (marked.length > 0) return newest(marked)!.id;
  return ours.length === 1 ? ours[0]!.id : null;
}

/**
 * Looks for the note's marker among our admin's note parts (a teammate quoting a marker is not our note).
 * Intercom returns only the 500 most recent parts, which always include a note whose post just timed out.
 * A part that was redacted while still showing the marker counts as found: it was posted, and posting it again would undo the redaction's intent.
 * (Intercom blanks a redacted body to "This message was deleted", so in practice a redacted note no
 * longer shows the marker; a note a teammate deleted by hand before we learned its id is then re-posted.)
 */
export function findMarkedPart(conversation: unknown, adminId: string, key: string): string | null {
  const marked = readParts(conversation).filter((p) => p.partType === "note" && p.authorId === adminId && bodyHasMarker(p.body, key));
  return newest(marked)?.id ?? null;
}

function field(v: unknown, name: string): unknown {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>)[name] : undefined;
}
