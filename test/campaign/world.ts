/**
 * Everything outside the Worker, faked at the fetch boundary (`vi.spyOn(globalThis, "fetch")`
 * reaches code inside the actors): the webhook receiver and an OpenAI-compatible LLM, both
 * misbehaving on a seeded plan. A fault is decided per request identity and attempt, so it does
 * not depend on how natural alarms interleaved with the driver.
 *
 * Faults that "crash" leave the request hanging and name the actor in `hung`; the driver then
 * aborts that actor, which is an eviction at exactly that await.
 */
import { decodeCoverage, encodeCoverage, tokensIn, type Ledger } from "./ledger";
import { hashString, keyedDraw } from "./prng";
import type { InvariantId, Receiver } from "./receiver";

export const WEBHOOK_HOST = "hooks.test";
export const LLM_HOST = "llm.test";

export type DestFault =
  | "5xx"
  | "429"
  | "4xx"
  | "timeout-landed"
  | "timeout-lost"
  | "slow-landed"
  | "slow-lost"
  | "crash-landed"
  | "crash-lost";
export type LlmFault = "5xx" | "429" | "4xx" | "timeout" | "slow" | "connection" | "empty" | "error-text" | "refusal" | "too-long" | "crash";

const DEST_WEIGHTS: readonly (readonly [DestFault, number])[] = [
  ["5xx", 3],
  ["429", 2],
  ["4xx", 0.3],
  ["timeout-landed", 2],
  ["timeout-lost", 2],
  ["slow-landed", 0.15],
  ["slow-lost", 0.15],
  ["crash-landed", 1],
  ["crash-lost", 1],
];
/** A sick destination fails every request, in ways that leave the step retrying. */
const SICK_WEIGHTS: readonly (readonly [DestFault, number])[] = [
  ["5xx", 2],
  ["429", 1],
  ["timeout-lost", 1],
  ["timeout-landed", 1],
];
const LLM_WEIGHTS: readonly (readonly [LlmFault, number])[] = [
  ["5xx", 3],
  ["429", 2],
  ["4xx", 0.3],
  ["timeout", 2],
  ["slow", 0.15],
  ["connection", 1],
  ["empty", 1],
  ["error-text", 1],
  ["refusal", 1],
  ["too-long", 1],
  ["crash", 0.7],
];

/** Texts an LLM might answer that must never be posted as a summary. */
export const BAD_TEXTS: Record<"empty" | "error-text" | "refusal" | "too-long", string> = {
  empty: "",
  "error-text": "Error: upstream model overloaded, please retry",
  refusal: "I'm sorry, I can't help with summarising this session.",
  "too-long": `The user did many things. ${"And then some more things. ".repeat(200)}`,
};

export interface FaultPlan {
  /** Share of destination requests that misbehave. */
  destRate: number;
  /** Share of LLM calls that misbehave. */
  llmRate: number;
  /** Actors whose every destination request fails (the isolation check). */
  sick: Set<string>;
}

export const HEALED: FaultPlan = { destRate: 0, llmRate: 0, sick: new Set() };

export interface WorldOptions {
  seed: number;
  ledger: Ledger;
  receiver: Receiver;
  /** Most actions one prompt of this actor may carry (a window closes at ≥ K, whole batches only). */
  maxPromptActions: (actor: string) => number;
  /** The actor's place in the seed (fault decisions key on it, not on its per-run name). */
  actorIndex: (actor: string) => number;
}

function pickWeighted<T>(entries: readonly (readonly [T, number])[], r: number): T {
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [item, w] of entries) {
    x -= w;
    if (x < 0) return item;
  }
  return entries[entries.length - 1]![0];
}

function timeoutError(): DOMException {
  return new DOMException("The operation was aborted due to timeout", "TimeoutError");
}

/** Waits until the request's own signal aborts (its timeout), then fails as fetch would. */
function untilAborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function completion(content: string): Response {
  return Response.json({
    id: "chatcmpl-campaign",
    object: "chat.completion",
    created: 0,
    model: "campaign",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
  });
}

export class World {
  plan: FaultPlan = HEALED;
  /** Actors with a request hanging on a crash fault: the driver aborts them. */
  readonly hung = new Set<string>();
  readonly injected = new Map<string, number>();
  readonly violations: { invariant: InvariantId; actor: string; message: string }[] = [];
  /** Requests the fakes have not answered yet, for failure messages. */
  readonly inFlight = new Map<number, string>();
  private nextRequest = 0;
  llmCalls = 0;
  /** Calls the breaker let through (counted by a spy on it); LLM calls may never exceed it. */
  llmTickets = 0;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly options: WorldOptions) {}

  private count(kind: string): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
  }

  /** The nth time this identity is seen, and the two keyed draws for it. */
  private draws(identity: string): [number, number, number] {
    const nth = (this.attempts.get(identity) ?? 0) + 1;
    this.attempts.set(identity, nth);
    const { seed } = this.options;
    return [keyedDraw(seed, identity, nth, "fault"), keyedDraw(seed, identity, nth, "kind"), keyedDraw(seed, identity, nth, "delay")];
  }

  /** A short pause so that requests to the same actor interleave with this await. */
  private async jitter(r: number): Promise<void> {
    if (r < 0.75) return;
    await new Promise((resolve) => setTimeout(resolve, r < 0.95 ? 0 : 2));
  }

  /** The fetch implementation the campaign installs. */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const host = new URL(request.url).host;
    const id = this.nextRequest++;
    this.inFlight.set(id, host);
    try {
      if (host === WEBHOOK_HOST) return await this.webhook(request, request.signal, id);
      if (host === LLM_HOST) return await this.llm(request, request.signal, id);
      return new Response(`campaign: unexpected request to ${host}`, { status: 599 });
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async webhook(request: Request, signal: AbortSignal | null | undefined, id: number): Promise<Response> {
    const body = await request.text();
    const event = JSON.parse(body) as { data: { product_id: string; session_id: string } };
    const actor = `${event.data.product_id}:${event.data.session_id}`;
    const hookId = request.headers.get("webhook-id") ?? "";
    // Keyed without the actor's random epoch ({epoch}-n{id}), so a seed replays the same faults.
    const [r, kindDraw, delay] = this.draws(`dest|${this.options.actorIndex(actor)}|${hookId.replace(/^[^-]*-/, "")}`);
    this.inFlight.set(id, `${actor} webhook ${hookId} (pausing)`);
    await this.jitter(delay);
    const sick = this.plan.sick.has(actor);
    const fault: DestFault | null = sick
      ? pickWeighted(SICK_WEIGHTS, kindDraw)
      : r < this.plan.destRate
        ? pickWeighted(DEST_WEIGHTS, kindDraw)
        : null;
    if (fault) this.count(`dest:${fault}`);
    this.inFlight.set(id, `${actor} webhook ${hookId} ${fault ?? "ok"}`);
    const landed = fault === null || fault.endsWith("-landed");
    if (landed) await this.options.receiver.receive(request.headers, body);
    switch (fault) {
      case null:
      case "timeout-landed":
      case "timeout-lost":
        if (fault) throw timeoutError();
        return new Response(null, { status: 204 });
      case "5xx":
        return new Response("upstream down", { status: 503 });
      case "429":
        return new Response("slow down", { status: 429, headers: { "retry-after": String(1 + Math.floor(r * 3)) } });
      case "4xx":
        return new Response("bad request", { status: 400 });
      case "slow-landed":
      case "slow-lost":
        return untilAborted(signal);
      case "crash-landed":
      case "crash-lost":
        this.hung.add(actor);
        return new Promise<never>(() => {});
    }
  }

  private async llm(request: Request, signal: AbortSignal | null | undefined, id: number): Promise<Response> {
    const { ledger, receiver, maxPromptActions } = this.options;
    const prompt = ((await request.json()) as { messages: { content: string }[] }).messages[0]?.content ?? "";
    const actionsPart = prompt.split("\nActions:\n")[1]?.split("\n\nSummary:")[0] ?? "";
    const tokens = tokensIn(actionsPart);
    const actor = ledger.owner(tokens[0] ?? "") ?? "?";
    this.llmCalls += 1;
    if (this.llmCalls > this.llmTickets) {
      this.violations.push({ invariant: "protocol", actor, message: "LLM called without the circuit breaker's leave" });
    }
    const lines = actionsPart.split("\n").filter((l) => /^\d+\. /.test(l)).length;
    if (lines > maxPromptActions(actor)) {
      this.violations.push({ invariant: "5-bounded", actor, message: `prompt carries ${lines} actions (at most ${maxPromptActions(actor)})` });
    }
    const [r, kindDraw, delay] = this.draws(`llm|${hashString(prompt)}`);
    this.inFlight.set(id, `${actor} llm (pausing)`);
    await this.jitter(delay);
    const fault = r < this.plan.llmRate ? pickWeighted(LLM_WEIGHTS, kindDraw) : null;
    if (fault) this.count(`llm:${fault}`);
    this.inFlight.set(id, `${actor} llm ${fault ?? "ok"}`);
    // A rolling prompt builds on the previous summary; when that is an extractive fallback, it also covers what the LLM refused.
    const fallback = prompt.includes("Extractive summary (") ? receiver.fallbackCoverage.get(actor) : undefined;
    const covers = new Set([...(decodeCoverage(prompt) ?? []), ...(fallback ?? []), ...tokens]);
    switch (fault) {
      case null:
        return completion(`The user went through ${tokens.length} more steps. ${encodeCoverage(covers)}`);
      case "empty":
      case "error-text":
      case "refusal":
      case "too-long":
        receiver.badSummaries.add(BAD_TEXTS[fault]);
        receiver.badSummaries.add(BAD_TEXTS[fault].trim());
        return completion(BAD_TEXTS[fault]);
      case "5xx":
        return Response.json({ error: { message: "overloaded" } }, { status: 503 });
      case "429":
        return Response.json({ error: { message: "rate limited" } }, { status: 429, headers: { "retry-after": "1" } });
      case "4xx":
        // The service answers a refused request with an extractive summary of the same window.
        receiver.fallbackCoverage.set(actor, new Set([...(receiver.fallbackCoverage.get(actor) ?? []), ...covers]));
        return Response.json({ error: { message: "bad request" } }, { status: 400 });
      case "timeout":
        throw timeoutError();
      case "connection":
        throw new TypeError("fetch failed");
      case "slow":
        return untilAborted(signal);
      case "crash":
        this.hung.add(actor);
        return new Promise<never>(() => {});
    }
  }
}
