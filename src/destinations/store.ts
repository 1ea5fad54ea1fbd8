/**
 * @module
 * The default destination: the session actor keeps the context itself (its notes table is the
 * store, read by `GET …/context`). Posting and redacting are bookkeeping only, so they cannot
 * fail, and the part id is derived from the note key, which makes a repeated post idempotent.
 */
import type { Destination } from "./types";

export function createStoreDestination(): Destination {
  return {
    name: "store",
    needsLink: false,
    async post(_session, note) {
      return { kind: "done", partId: `store:${note.key}` };
    },
    async redact() {
      return { kind: "done" };
    },
    async find(_session, note) {
      return { kind: "done", partId: `store:${note.key}` };
    },
  };
}
