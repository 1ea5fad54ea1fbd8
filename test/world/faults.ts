/**
 * How the fake world misbehaves. Every request to the destination or the LLM asks a fault source
 * what happens to it; the source is a script (a queue per channel, for tests that stage one
 * scenario), a seeded plan (the campaign: a rate, a weighted choice, a sick actor), or any
 * function a test writes.
 */
import { hashString, keyedDraw } from "./prng.ts";

/** Answers with this HTTP status instead of handling the request. */
export type StatusFault = "400" | "401" | "429" | "500" | "503";

/**
 * Destination faults. `-landed`: the receiver applies the delivery, then the answer is lost;
 * `-lost`: it never arrives. `timeout` fails at once as a timed-out fetch would, `slow` hangs until
 * the caller's own deadline aborts it, `crash` hangs for good and names the actor in `world.hung`
 * (the test then aborts that actor: an eviction at exactly that await).
 */
export type DestFault = StatusFault | "timeout-landed" | "timeout-lost" | "slow-landed" | "slow-lost" | "crash-landed" | "crash-lost";

/** LLM faults: statuses, transport failures, and answers that must never be posted as a summary. */
export type LlmFault = StatusFault | "timeout" | "slow" | "connection" | "crash" | BadSummary;

export type BadSummary = "empty" | "error-text" | "refusal" | "too-long";

/** What a fault source is told about one request. */
export interface DestCall {
  actor: string;
  webhookId: string;
  /** Where it goes: host and path of the destination URL. */
  destination: string;
}

export interface LlmCall {
  actor: string;
  prompt: string;
}

export interface FaultSource {
  dest(call: DestCall): DestFault | null;
  llm(call: LlmCall): LlmFault | null;
  /** A pause (ms, 0 = one macrotask) before answering, so that requests interleave; null for none. */
  delayMs?(call: DestCall | LlmCall): number | null;
}

export const NO_FAULTS: FaultSource = { dest: () => null, llm: () => null };

/** One queue per channel: each request takes the next entry ("ok" is no fault), then none. */
export function scriptedFaults(): FaultSource & { failDest(...faults: (DestFault | "ok")[]): void; failLlm(...faults: (LlmFault | "ok")[]): void } {
  const dest: (DestFault | "ok")[] = [];
  const llm: (LlmFault | "ok")[] = [];
  const pick = <T>(queue: (T | "ok")[]): T | null => {
    const next = queue.shift();
    return next === undefined || next === "ok" ? null : next;
  };
  return {
    dest: () => pick(dest),
    llm: () => pick(llm),
    failDest(...faults: (DestFault | "ok")[]) {
      dest.push(...faults);
    },
    failLlm(...faults: (LlmFault | "ok")[]) {
      llm.push(...faults);
    },
  };
}

type Weights<T> = readonly (readonly [T, number])[];

const DEST_WEIGHTS: Weights<DestFault> = [
  ["503", 3],
  ["429", 2],
  ["400", 0.3],
  ["timeout-landed", 2],
  ["timeout-lost", 2],
  ["slow-landed", 0.15],
  ["slow-lost", 0.15],
  ["crash-landed", 1],
  ["crash-lost", 1],
];
/** A sick destination fails every request, in ways that leave the step retrying. */
const SICK_WEIGHTS: Weights<DestFault> = [
  ["503", 2],
  ["429", 1],
  ["timeout-lost", 1],
  ["timeout-landed", 1],
];
const LLM_WEIGHTS: Weights<LlmFault> = [
  ["503", 3],
  ["429", 2],
  ["400", 0.3],
  ["timeout", 2],
  ["slow", 0.15],
  ["connection", 1],
  ["empty", 1],
  ["error-text", 1],
  ["refusal", 1],
  ["too-long", 1],
  ["crash", 0.7],
];

function pickWeighted<T>(entries: Weights<T>, r: number): T {
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [item, w] of entries) {
    x -= w;
    if (x < 0) return item;
  }
  return entries[entries.length - 1]![0];
}

export interface FaultPlan {
  /** Share of destination requests that misbehave. */
  destRate: number;
  /** Share of LLM calls that misbehave. */
  llmRate: number;
  /** Actors whose every request to the (faulty) destination fails (the isolation checks). */
  sick: ReadonlySet<string>;
}

export const HEALED: FaultPlan = { destRate: 0, llmRate: 0, sick: new Set() };

/**
 * The campaign's faults: decided per request identity and attempt from the seed, so that a seed
 * replays the same faults however alarms interleaved. `identity` names a destination request
 * without anything random per run (the actor's place in the seed, the webhook-id without its epoch).
 * With `faulty` (a destination, host and path) only requests to it misbehave; every other
 * destination is healthy (its requests still pause now and then, so that they interleave).
 */
export function seededFaults(seed: number, identity: (call: DestCall) => string, faulty?: string) {
  const attempts = new Map<string, number>();
  const draws = (key: string): [number, number, number] => {
    const nth = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, nth);
    return [keyedDraw(seed, key, nth, "fault"), keyedDraw(seed, key, nth, "kind"), keyedDraw(seed, key, nth, "delay")];
  };
  const delays = new WeakMap<DestCall | LlmCall, number>();
  const source = {
    plan: HEALED,
    dest(call: DestCall): DestFault | null {
      const [r, kind, delay] = draws(`dest|${identity(call)}`);
      delays.set(call, delay);
      if (faulty !== undefined && call.destination !== faulty) return null;
      if (source.plan.sick.has(call.actor)) return pickWeighted(SICK_WEIGHTS, kind);
      return r < source.plan.destRate ? pickWeighted(DEST_WEIGHTS, kind) : null;
    },
    llm(call: LlmCall): LlmFault | null {
      const [r, kind, delay] = draws(`llm|${hashString(call.prompt)}`);
      delays.set(call, delay);
      return r < source.plan.llmRate ? pickWeighted(LLM_WEIGHTS, kind) : null;
    },
    /** Now and then a short pause, so that requests to the same actor interleave with this await. */
    delayMs(call: DestCall | LlmCall): number | null {
      const r = delays.get(call) ?? 0;
      return r < 0.75 ? null : r < 0.95 ? 0 : 2;
    },
  };
  return source;
}
