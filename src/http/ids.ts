/**
 * @module
 * The one rule for ids (product, session, user, email, conversation), pure so that the routes'
 * schemas and the source parsers apply the same check. Ids name actors, go into URLs and SQLite
 * text, and appear in log lines: a lone surrogate is altered on the way into storage (the session
 * could then never be found again), a control character forges log lines, and `.` or `..` can
 * never be addressed as a URL path segment.
 */

/** Longest session, user, email or conversation id. */
export const MAX_ID_CHARS = 256;
/** Product ids: they name actors and appear in every path, so a narrow alphabet. */
export const PRODUCT_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Conversation ids address a destination's conversation (an Intercom id, a Slack channel:ts). */
export const CONVERSATION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** What is wrong with `id` as an id, or null when it is usable. */
export function idProblem(id: string, maxChars = MAX_ID_CHARS): string | null {
  if (id.length === 0) return "must not be empty";
  if (id.length > maxChars) return `must be at most ${maxChars} characters`;
  if (!id.isWellFormed()) return "must be well-formed Unicode (no lone surrogate)";
  if (CONTROL_CHARS.test(id)) return "must not contain control characters";
  if (id === "." || id === "..") return "must not be '.' or '..'";
  return null;
}

export const isUsableId = (id: string, maxChars = MAX_ID_CHARS): boolean => idProblem(id, maxChars) === null;

/** A product id: `PRODUCT_ID`, and not `.` or `..`. */
export const isProductId = (id: string): boolean => PRODUCT_ID.test(id) && isUsableId(id);

/** A conversation id: `CONVERSATION_ID`, and not `.` or `..`. */
export const isConversationId = (id: string): boolean => CONVERSATION_ID.test(id) && isUsableId(id);
