/**
 * The campaign's operations: what the driver does next, drawn by weight from the seed's stream.
 * Clients post (alone, concurrently, several batches per request, retried), actors are alarmed,
 * evicted and crashed (alone or in the middle of a run), flushed, made due, read across products,
 * and the weather changes.
 */
import type { FaultPlan } from "../world/faults";
import type { Rng } from "../world/prng";
import { sleep, type Actors, type SessionHandle } from "./actors";
import type { Client } from "./client";

export const OPERATIONS = [
  ["post", 30],
  ["post-concurrent", 8],
  ["post-array", 4],
  ["post-unusable-id", 3],
  ["repost", 6],
  ["repost-concurrent", 4],
  ["alarm", 30],
  ["alarm+ingest", 8],
  ["alarm+crash", 3],
  ["evict", 3],
  ["crash", 3],
  ["flush", 3],
  ["steps-due", 10],
  ["weather", 4],
  ["state", 2],
] as const;

export type Operation = (typeof OPERATIONS)[number][0];

export interface OperationContext {
  rng: Rng;
  sessions: SessionHandle[];
  client: Client;
  actors: Actors;
  faults: { plan: FaultPlan };
  note(line: string): void;
}

export async function perform(c: OperationContext, op: Operation, h: SessionHandle): Promise<void> {
  const { rng, client, actors, sessions } = c;
  switch (op) {
    case "post":
      return client.post([client.newBatch(h)], { idempotencyKey: rng.chance(0.3) });
    case "post-concurrent": {
      const n = rng.int(2, 3);
      await Promise.all(Array.from({ length: n }, () => client.post([client.newBatch(rng.chance(0.5) ? h : rng.pick(sessions))], {})));
      return;
    }
    case "post-array": {
      const other = rng.pick(sessions);
      return client.post([client.newBatch(h), client.newBatch(other)], { idempotencyKey: rng.chance(0.5) });
    }
    case "post-unusable-id":
      return client.postUnusableId(h);
    case "repost": {
      const previous = client.sent.slice(-8).filter((r) => r.items.every((b) => b.accepted));
      if (previous.length) return client.repost(rng.pick(previous), true);
      return;
    }
    case "repost-concurrent": {
      const sent = client.prepare([client.newBatch(h)], { idempotencyKey: rng.chance(0.5) });
      await Promise.all([client.repost(sent, false), client.repost(sent, false)]);
      return;
    }
    case "alarm":
      await actors.alarm(h);
      return;
    case "alarm+ingest": {
      const alarm = actors.alarm(h);
      await client.post([client.newBatch(h)], {});
      await alarm;
      return;
    }
    case "alarm+crash": {
      const alarm = actors.alarm(h);
      await sleep(rng.int(0, 3));
      await actors.crash(h);
      await alarm;
      return;
    }
    case "evict":
      return actors.evict(h);
    case "crash":
      return actors.crash(h);
    case "flush":
      return client.flush(h);
    case "steps-due":
      return actors.makeDue(h);
    case "state":
      return client.readState(h);
    case "weather":
      return changeWeather(c);
  }
}

/** New fault rates: calm, stormy, or an outage (every call fails) of the LLM or the destination. */
function changeWeather(c: OperationContext): void {
  const { rng } = c;
  const rate = () => rng.weighted([[0, 2], [0.1 + rng.float() * 0.5, 5], [1, 2]] as const);
  c.faults.plan = { ...c.faults.plan, destRate: rate(), llmRate: rate() };
  c.note(`weather dest=${c.faults.plan.destRate.toFixed(2)} llm=${c.faults.plan.llmRate.toFixed(2)}`);
}
