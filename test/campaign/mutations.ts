/**
 * Deliberately broken builds, to show the campaign has teeth. Seven break the build's wire: they sit
 * between the actors and the outside world (the campaign's `fetch`) and send what a buggy
 * destination would, signed with the Worker's own secret. One breaks storage: it patches the
 * store class the actors run in this isolate (the only mutation that needs to know an internal).
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { SessionStore } from "../../src/session/sessionStore";
import type { InvariantId } from "../world/receiver";
import { HEALTHY_URL } from "./destinations";
import type { Outbound } from "./driver";

export interface Mutation {
  name: string;
  /** The invariant the campaign must report for this mutation. */
  expect: InvariantId;
  /** Breaks the build: what it puts on the wire, if anything, and how to undo it. */
  install(): { outbound?: Outbound; restore(): void };
}

interface Delivery {
  id: string;
  event: { type: string; data: Record<string, unknown> & { product_id: string; session_id: string; note_id?: string; window?: number; actions?: unknown[] } };
}

const signer = new Webhook(env.WEBHOOK_SECRET);

/** A delivery's id and event, or null for anything else (LLM calls pass untouched). */
async function readDelivery(request: Request): Promise<Delivery | null> {
  const id = request.headers.get("webhook-id");
  return id === null ? null : { id, event: JSON.parse(await request.clone().text()) as Delivery["event"] };
}

/** The delivery as our build would send it: signed, to the same URL, under the caller's deadline. */
function signed(like: Request, id: string, event: Delivery["event"]): Request {
  const body = JSON.stringify(event);
  const at = new Date();
  const headers = { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signer.sign(id, at, body) };
  return new Request(like.url, { method: "POST", headers, body, signal: like.signal });
}

/** Rewrites the deliveries `change` picks (returns the new id and event, or null to leave one alone). */
function rewrite(change: (d: Delivery) => Delivery | null): Outbound {
  return (send) => async (request) => {
    const delivery = await readDelivery(request);
    const changed = delivery && change(delivery);
    return send(changed ? signed(request, changed.id, changed.event) : request);
  };
}

const wireOnly = (outbound: Outbound) => () => ({ outbound, restore: () => {} });

export const MUTATIONS: readonly Mutation[] = [
  {
    name: "redacts raw notes before the summary that covers them is posted",
    expect: "1-summary-first",
    install: wireOnly((send) => {
      const posted = new Map<string, { id: string; window: number }[]>();
      return async (request) => {
        const delivery = await readDelivery(request);
        if (!delivery) return send(request);
        const { data, type } = delivery.event;
        // Per lane: the notes this session posted to this destination.
        const actor = `${request.url} ${data.product_id}:${data.session_id}`;
        if (type === "context.summary") {
          const covered = (posted.get(actor) ?? []).filter((n) => n.window <= data.window!);
          for (const n of covered) {
            const redaction = { type: "context.redaction", data: { product_id: data.product_id, session_id: data.session_id, conversation_id: null, redacts: n.id, kind: "raw" } };
            await send(signed(request, `${n.id}.redact`, redaction)).catch(() => undefined);
          }
          posted.set(actor, (posted.get(actor) ?? []).filter((n) => !covered.includes(n)));
        }
        const res = await send(request);
        if (res.ok && type === "context.raw_note") posted.set(actor, [...(posted.get(actor) ?? []), { id: delivery.id, window: data.window! }]);
        return res;
      };
    }),
  },
  {
    name: "re-posts with a fresh webhook-id on every attempt",
    expect: "3-exactly-once",
    install: () => {
      let attempt = 0;
      // The build keeps the id it last posted a note under, and redacts that one.
      const postedAs = new Map<string, string>();
      return {
        outbound: rewrite(({ id, event }) => {
          if (event.type === "context.redaction") {
            const redacts = postedAs.get(String(event.data.redacts));
            return redacts ? { id: `${redacts}.redact`, event: { ...event, data: { ...event.data, redacts } } } : null;
          }
          // The attempt goes into the epoch part of the key ({epoch}-n{id}), so each attempt is a new id.
          const fresh = id.replace(/-n(\d+)$/, `a${++attempt}-n$1`);
          postedAs.set(id, fresh);
          return { id: fresh, event: { ...event, data: { ...event.data, note_id: fresh } } };
        }),
        restore: () => {},
      };
    },
  },
  {
    name: "treats a timed-out post as delivered",
    expect: "2-nothing-lost",
    install: wireOnly((send) => async (request) => {
      const delivery = await readDelivery(request);
      try {
        return await send(request);
      } catch (err) {
        if (delivery && delivery.event.type !== "context.redaction" && (err as { name?: unknown }).name === "TimeoutError") return new Response(null, { status: 204 });
        throw err;
      }
    }),
  },
  {
    name: "never prunes covered rows",
    expect: "5-bounded",
    install: () => {
      const original = SessionStore.prototype.prune;
      SessionStore.prototype.prune = () => {};
      return { restore: () => void (SessionStore.prototype.prune = original) };
    },
  },
  {
    name: "writes a raw note's actions newest first",
    expect: "4-order",
    install: wireOnly(
      rewrite(({ id, event }) => (event.type === "context.raw_note" ? { id, event: { ...event, data: { ...event.data, actions: [...(event.data.actions ?? [])].reverse() } } } : null)),
    ),
  },
  {
    name: "shares one backoff across every session's destination",
    expect: "6-isolated",
    install: wireOnly((send) => {
      let blockedUntil = 0;
      return async (request) => {
        if (!request.headers.has("webhook-id")) return send(request);
        if (Date.now() < blockedUntil) return new Response("shared backoff", { status: 503 });
        try {
          const res = await send(request);
          if (!res.ok) blockedUntil = Date.now() + 60_000;
          return res;
        } catch (err) {
          blockedUntil = Date.now() + 60_000;
          throw err;
        }
      };
    }),
  },
  {
    name: "holds a session's other lanes back while one of its destinations fails",
    expect: "6-isolated",
    install: wireOnly((send) => {
      // Per session, until when every delivery to another destination waits (a backoff shared across lanes).
      const blocked = new Map<string, { url: string; until: number }>();
      return async (request) => {
        const delivery = await readDelivery(request);
        if (!delivery) return send(request);
        const actor = `${delivery.event.data.product_id}:${delivery.event.data.session_id}`;
        const block = blocked.get(actor);
        if (block && block.url !== request.url && Date.now() < block.until) return new Response("shared backoff", { status: 503 });
        const fail = () => blocked.set(actor, { url: request.url, until: Date.now() + 60_000 });
        try {
          const res = await send(request);
          if (!res.ok) fail();
          return res;
        } catch (err) {
          fail();
          throw err;
        }
      };
    }),
  },
  {
    name: "posts each summary to one destination only, and redacts in both",
    expect: "1-summary-first",
    install: wireOnly((send) => async (request) => {
      const delivery = await readDelivery(request);
      // The build believes the summary went out in this lane too, so it redacts what it covers here.
      if (delivery?.event.type === "context.summary" && request.url === HEALTHY_URL) return new Response(null, { status: 204 });
      return send(request);
    }),
  },
];
