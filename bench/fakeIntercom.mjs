// The few Intercom endpoints the intercom destination calls (src/destinations/intercom.ts), under
// /intercom on the bench's destination fake: reply with an admin note (answered with the
// conversation and the new part, as Intercom does), redact a part, read a conversation. Enough
// for the price scenario to count an Intercom session's calls; behaviour and faults are tested
// against the emulator in test/helpers/intercomEmulator.ts.

export const INTERCOM_PREFIX = "/intercom";

/** A fresh workspace: conversations by id, each a list of parts. */
export function createIntercom() {
  const conversations = new Map();
  let nextPart = 1;
  const conversation = (id) => ({
    type: "conversation",
    id,
    conversation_parts: { type: "conversation_part.list", conversation_parts: conversations.get(id) ?? [], total_count: (conversations.get(id) ?? []).length },
  });
  /** `{ status, json }` for one request whose path starts with INTERCOM_PREFIX. */
  return function answer(method, path, body) {
    const rest = path.slice(INTERCOM_PREFIX.length);
    const reply = rest.match(/^\/conversations\/([^/]+)\/reply$/);
    if (method === "POST" && reply) {
      const id = decodeURIComponent(reply[1]);
      const sent = JSON.parse(body || "{}");
      const part = {
        type: "conversation_part",
        id: String(nextPart++),
        part_type: sent.message_type === "note" ? "note" : "comment",
        body: sent.body ?? "",
        created_at: Math.floor(Date.now() / 1000),
        author: { type: "admin", id: String(sent.admin_id ?? "") },
        redacted: false,
      };
      conversations.set(id, [...(conversations.get(id) ?? []), part]);
      return { status: 200, json: { ...conversation(id), conversation_parts: { type: "conversation_part.list", conversation_parts: [part], total_count: 1 } } };
    }
    if (method === "POST" && rest === "/conversations/redact") {
      const { conversation_id: id, conversation_part_id: partId } = JSON.parse(body || "{}");
      const part = (conversations.get(id) ?? []).find((p) => p.id === String(partId));
      if (!part) return { status: 404, json: { type: "error.list", errors: [{ code: "conversation_part_not_redactable", message: "not found" }] } };
      part.redacted = true;
      part.body = "";
      return { status: 200, json: conversation(id) };
    }
    const read = rest.match(/^\/conversations\/([^/]+)$/);
    if (method === "GET" && read) {
      const id = decodeURIComponent(read[1]);
      return conversations.has(id) ? { status: 200, json: conversation(id) } : { status: 404, json: { type: "error.list", errors: [{ code: "not_found" }] } };
    }
    return { status: 404, json: { type: "error.list", errors: [{ code: "not_found", message: `no fake for ${method} ${rest}` }] } };
  };
}
