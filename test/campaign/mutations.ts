/**
 * Deliberately broken builds, to show the campaign has teeth. Each patches the real classes in
 * the test isolate (the actors run in it too) and returns the function that undoes the patch.
 */
import type { Destination, OutgoingNote, PostedPart, SessionRef } from "../../src/destinations/types";
import { SessionActor } from "../../src/sessionActor";
import { SessionStore } from "../../src/session/sessionStore";
import type { InvariantId } from "./receiver";

export interface Mutation {
  name: string;
  /** The invariant the campaign must report for this mutation. */
  expect: InvariantId;
  install(): () => void;
}

type DestinationMethod = { destination(this: unknown): Destination };

/** Wraps the destination every actor builds (the actor's private factory method). */
function wrapDestination(wrap: (inner: Destination) => Destination): () => void {
  const proto = SessionActor.prototype as unknown as DestinationMethod;
  const original = proto.destination;
  proto.destination = function (this: unknown) {
    return wrap(original.call(this));
  };
  return () => {
    proto.destination = original;
  };
}

function patchStore<K extends keyof SessionStore>(key: K, replacement: (original: SessionStore[K]) => SessionStore[K]): () => void {
  const proto = SessionStore.prototype;
  const original = proto[key];
  proto[key] = replacement(original);
  return () => {
    proto[key] = original;
  };
}

export const MUTATIONS: readonly Mutation[] = [
  {
    name: "redacts raw notes before the summary that covers them is posted",
    expect: "1-summary-first",
    install: () => {
      const posted = new Map<string, (PostedPart & { window: number })[]>();
      return wrapDestination((inner) => ({
        ...inner,
        async post(session: SessionRef, note: OutgoingNote) {
          const id = `${session.productId}:${session.sessionId}`;
          if (note.kind === "summary") {
            for (const part of (posted.get(id) ?? []).filter((p) => p.window <= note.window)) await inner.redact(session, part);
            posted.set(id, (posted.get(id) ?? []).filter((p) => p.window > note.window));
          }
          const result = await inner.post(session, note);
          if (result.kind === "done" && note.kind === "raw") {
            posted.set(id, [...(posted.get(id) ?? []), { key: note.key, kind: "raw", partId: result.partId, link: session.link, window: note.window }]);
          }
          return result;
        },
      }));
    },
  },
  {
    name: "re-posts with a fresh webhook-id on every attempt",
    expect: "3-exactly-once",
    install: () => {
      let attempt = 0;
      return wrapDestination((inner) => ({
        ...inner,
        // The attempt goes into the epoch part of the key ({epoch}-n{id}), so each attempt is a new id.
        post: (session, note) => inner.post(session, { ...note, key: note.key.replace(/-n(\d+)$/, `a${++attempt}-n$1`) }),
      }));
    },
  },
  {
    name: "treats a timed-out post as delivered",
    expect: "2-nothing-lost",
    install: () =>
      wrapDestination((inner) => ({
        ...inner,
        post: async (session, note) => {
          const result = await inner.post(session, note);
          return result.kind === "retry" && result.unknownOutcome ? { kind: "done", partId: note.key } : result;
        },
      })),
  },
  {
    name: "never prunes covered rows",
    expect: "5-bounded",
    install: () => patchStore("prune", () => () => {}),
  },
  {
    name: "writes a raw note's actions newest first",
    expect: "4-order",
    install: () =>
      patchStore("noteActions", (original) =>
        function (this: SessionStore, noteId: number) {
          return original.call(this, noteId).reverse();
        },
      ),
  },
  {
    name: "shares one backoff across every session's destination",
    expect: "6-isolated",
    install: () => {
      let blockedUntil = 0;
      return wrapDestination((inner) => ({
        ...inner,
        post: async (session, note) => {
          if (Date.now() < blockedUntil) return { kind: "retry", error: "shared backoff" };
          const result = await inner.post(session, note);
          if (result.kind !== "done") blockedUntil = Date.now() + 60_000;
          return result;
        },
      }));
    },
  },
];
