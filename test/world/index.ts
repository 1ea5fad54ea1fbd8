/**
 * The one fake outside world every test and the benchmark talk to: a Standard Webhooks receiver
 * (`receiver.ts`) and an OpenAI-compatible LLM (`llm.ts`), misbehaving as a fault source says
 * (`faults.ts`). It is one `(Request) => Promise<Response>` handler, so workerd tests and the
 * campaign install it behind `fetch` (`vi.spyOn(globalThis, "fetch")` reaches the actors), the Node
 * simulation hands it to the real webhook destination and LLM client, and `bench/fakes.mjs` serves
 * it over loopback HTTP. Plain TypeScript with erasable syntax only and no Workers imports, so Node
 * runs it as it is.
 *
 * Requests are told apart by what they are, not by host: `…/chat/completions` is the LLM, a request
 * with a `webhook-id` is a delivery, anything else is answered 599 (deny by default). A world given
 * several `destinations` (webhook URLs) runs one receiver per URL, so each lane of a session is
 * checked on its own; without, one receiver takes every delivery.
 */
import { SummaryCoverage } from "./coverage.ts";
import { NO_FAULTS, type DestCall, type FaultSource, type LlmCall } from "./faults.ts";
import type { Ledger } from "./ledger.ts";
import { Llm, type LlmRequest } from "./llm.ts";
import { Receiver, type Violation, type WorldEvent } from "./receiver.ts";

export type { DestFault, FaultSource, LlmFault } from "./faults.ts";
export type { ReceivedNote, Violation } from "./receiver.ts";

export interface WorldOptions {
  /** `whsec_…`: the receiver verifies every delivery against it (the Worker's WEBHOOK_SECRET). */
  secret?: string;
  /** What the client sent, for the token checks (the campaign and the simulation keep one). */
  ledger?: Ledger;
  faults?: FaultSource;
  /** Most actions one prompt may carry; more is a violation of invariant 5. */
  maxPromptActions?: number;
  /** Longest prompt the service may send (its SUMMARY_MAX_PROMPT_CHARS). */
  maxPromptChars?: number;
  /** A fixed text for every good LLM answer (the benchmark). */
  summaryText?: string;
  /** Webhook URLs, one receiver each; a delivery to any other URL is refused (599). */
  destinations?: readonly string[];
}

/** A delivery's destination, as receivers and fault sources name it: host and path. */
export function destinationOf(url: string): string {
  const { host, pathname } = new URL(url);
  return `${host}${pathname}`;
}

type Channel = "dest" | "llm";

function timeoutError(): DOMException {
  return new DOMException("The operation was aborted due to timeout", "TimeoutError");
}

/** Waits until the request's own signal aborts (its deadline), then fails as fetch would. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function statusAnswer(channel: Channel, status: number): Response {
  const headers: Record<string, string> = status === 429 ? { "retry-after": "1" } : {};
  if (channel === "llm") return Response.json({ error: { message: `world: ${status}` } }, { status, headers });
  return new Response(`world: ${status}`, { status, headers });
}

export class World {
  readonly events: WorldEvent[] = [];
  /** The first destination's receiver (the only one, without `destinations`). */
  readonly receiver: Receiver;
  /** One receiver per destination (host and path); empty without `destinations`. */
  readonly receivers = new Map<string, Receiver>();
  readonly coverage = new SummaryCoverage();
  readonly llm: Llm;
  faults: FaultSource;
  /** Extra latency before every answer, per channel (ms). */
  readonly latencyMs: Record<Channel, number> = { dest: 0, llm: 0 };
  /** Actors with a request hanging on a crash fault: the test aborts them. */
  readonly hung = new Set<string>();
  /** Faults injected, by `channel:fault`. */
  readonly injected = new Map<string, number>();
  /** Requests not answered yet, for failure messages. */
  readonly inFlight = new Map<number, string>();
  private readonly gates: Record<Channel, Promise<void> | null> = { dest: null, llm: null };
  private nextRequest = 0;

  constructor(options: WorldOptions = {}) {
    const badSummaries = new Set<string>();
    const receiver = (label?: string) => {
      const windowTokens = (actor: string, window: number) => [...this.allReceivers()].flatMap((r) => r.windowTokens(actor, window));
      return new Receiver({ secret: options.secret, ledger: options.ledger, events: this.events, badSummaries, coverage: this.coverage, label, windowTokens });
    };
    for (const url of options.destinations ?? []) this.receivers.set(destinationOf(url), receiver(destinationOf(url)));
    this.receiver = this.receivers.values().next().value ?? receiver();
    this.llm = new Llm({ ledger: options.ledger, events: this.events, badSummaries, maxPromptActions: options.maxPromptActions, maxPromptChars: options.maxPromptChars, summaryText: options.summaryText });
    this.faults = options.faults ?? NO_FAULTS;
  }

  get violations(): Violation[] {
    return [...[...this.allReceivers()].flatMap((r) => r.violations), ...this.llm.violations];
  }

  /** The receiver of a destination URL: its own, or the only one; undefined for a URL this world does not serve. */
  receiverFor(url: string): Receiver | undefined {
    return this.receivers.size === 0 ? this.receiver : this.receivers.get(destinationOf(url));
  }

  private allReceivers(): Iterable<Receiver> {
    return this.receivers.size === 0 ? [this.receiver] : this.receivers.values();
  }

  /** `fetch`, answered by this world. */
  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => this.handle(new Request(input, init));

  /** Holds every request of one channel until the returned function is called (or its caller gives up). */
  hold(channel: Channel): () => void {
    let release = () => {};
    this.gates[channel] = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.gates[channel] = null;
      release();
    };
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const id = this.nextRequest++;
    this.inFlight.set(id, url.host);
    try {
      if (url.pathname.endsWith("/chat/completions")) return await this.completion(request, id);
      if (request.headers.has("webhook-id")) return await this.delivery(request, id);
      return new Response(`world: unexpected request to ${url.host}${url.pathname}`, { status: 599 });
    } finally {
      this.inFlight.delete(id);
    }
  }

  private count(channel: Channel, fault: string): void {
    const key = `${channel}:${fault}`;
    this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
  }

  private async pause(channel: Channel, call: DestCall | LlmCall, signal: AbortSignal): Promise<void> {
    const jitter = this.faults.delayMs?.(call) ?? null;
    if (jitter !== null) await sleep(jitter);
    if (this.latencyMs[channel] > 0) await sleep(this.latencyMs[channel]);
    const gate = this.gates[channel];
    if (gate) await Promise.race([gate, untilAborted(signal)]);
  }

  /** Never answers: the test aborts the actor, and the request is no longer in flight. */
  private crash(actor: string, id: number): Promise<never> {
    this.hung.add(actor);
    this.inFlight.delete(id);
    return new Promise<never>(() => {});
  }

  private async delivery(request: Request, id: number): Promise<Response> {
    const body = await request.text();
    let actor = "?";
    try {
      const { data } = JSON.parse(body) as { data: { product_id: string; session_id: string } };
      actor = `${data.product_id}:${data.session_id}`;
    } catch {
      // Not JSON: the receiver refuses it below.
    }
    const receiver = this.receiverFor(request.url);
    if (!receiver) return new Response(`world: no destination at ${destinationOf(request.url)}`, { status: 599 });
    const call: DestCall = { actor, webhookId: request.headers.get("webhook-id") ?? "", destination: destinationOf(request.url) };
    const fault = this.faults.dest(call);
    if (fault) this.count("dest", fault);
    this.inFlight.set(id, `${actor} webhook ${call.webhookId} ${fault ?? "ok"}`);
    await this.pause("dest", call, request.signal);
    const landed = fault === null || fault.endsWith("-landed");
    const delivery = landed ? receiver.receive(request.headers, body) : null;
    switch (fault) {
      case null:
        return delivery === "bad-signature" ? new Response("bad signature", { status: 401 }) : new Response(null, { status: 204 });
      case "timeout-landed":
      case "timeout-lost":
        throw timeoutError();
      case "slow-landed":
      case "slow-lost":
        return untilAborted(request.signal);
      case "crash-landed":
      case "crash-lost":
        return this.crash(actor, id);
      default:
        return statusAnswer("dest", Number(fault));
    }
  }

  private async completion(request: Request, id: number): Promise<Response> {
    const call: LlmRequest = await this.llm.read(request);
    const { llm } = this;
    llm.inFlight += 1;
    llm.maxInFlight = Math.max(llm.maxInFlight, llm.inFlight);
    try {
      const asked: LlmCall = { actor: call.actor, prompt: call.prompt };
      // A rolling prompt that builds on an extractive fallback covers what that fallback covered.
      const inherited = call.prompt.includes("Extractive summary (") ? (this.coverage.fallback.get(call.actor) ?? []) : [];
      if (call.chars > llm.contextChars) {
        this.refused(call, inherited);
        const error = { message: "This model's maximum context length was exceeded", type: "invalid_request_error", code: "context_length_exceeded" };
        return Response.json({ error }, { status: 400 });
      }
      const fault = this.faults.llm(asked);
      if (fault) this.count("llm", fault);
      this.inFlight.set(id, `${call.actor} llm ${fault ?? "ok"}`);
      await this.pause("llm", asked, request.signal);
      switch (fault) {
        case null:
          return llm.answer(call, inherited);
        case "empty":
        case "error-text":
        case "refusal":
        case "too-long":
          return llm.badAnswer(fault, call);
        case "timeout":
          throw timeoutError();
        case "connection":
          throw new TypeError("fetch failed");
        case "slow":
          return await untilAborted(request.signal);
        case "crash":
          return await this.crash(call.actor, id);
        case "400":
          // The service answers a refused request with an extractive summary of the same window.
          this.refused(call, inherited);
          return statusAnswer("llm", 400);
        default:
          return statusAnswer("llm", Number(fault));
      }
    } finally {
      llm.inFlight -= 1;
    }
  }

  /** Remembers what a refused prompt covered, for the extractive summary the service posts instead. */
  private refused(call: LlmRequest, inherited: Iterable<string>): void {
    this.coverage.refused(call.actor, this.llm.coverage(call, inherited));
  }
}

export function createWorld(options: WorldOptions = {}): World {
  return new World(options);
}
