/**
 * The LLM of the fake world: an OpenAI-compatible `POST …/chat/completions`. A good answer
 * summarises the prompt's actions and lists the tokens it covers (`covers:[…]`, the previous
 * summary's coverage included when the prompt carries it), so coverage can be checked where the
 * summary lands. It counts calls, keeps prompts and checks that prompts stay O(K).
 */
import { ELIDED_MARK } from "./coverage.ts";
import type { BadSummary } from "./faults.ts";
import { decodeCoverage, encodeCoverage, tokensIn, type Ledger } from "./ledger.ts";
import type { Violation, WorldEvent } from "./receiver.ts";

/** Texts an LLM might answer that must never be posted as a summary. */
export const BAD_TEXTS: Record<BadSummary, string> = {
  empty: "",
  "error-text": "Error: upstream model overloaded, please retry",
  refusal: "I'm sorry, I can't help with summarising this session.",
  "too-long": `The user did many things. ${"And then some more things. ".repeat(200)}`,
};

export interface LlmOptions {
  ledger?: Ledger;
  events: WorldEvent[];
  badSummaries: Set<string>;
  /** Most actions one prompt may carry (a window closes at ≥ K, whole batches only). */
  maxPromptActions?: number;
  /** Longest prompt allowed (characters). */
  maxPromptChars?: number;
  /** Every good answer is this text (the benchmark wants a fixed size); else a covering summary. */
  summaryText?: string;
}

/** The service's line for the middle of an over-long window (a summary of one says so: ELIDED_MARK). */
const ELIDED_RE = /\u2026 \d+ actions elided/;

/** The part of a prompt that lists the window's actions (the whole prompt if it has no such part). */
function actionsPart(prompt: string): string {
  return prompt.split("\nActions:\n")[1]?.split("\n\nSummary:")[0] ?? prompt;
}

function completion(content: string, model = "world", promptChars = 0): Response {
  const promptTokens = Math.ceil(promptChars / 4);
  return Response.json({
    id: "chatcmpl-world",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
    usage: { prompt_tokens: promptTokens, completion_tokens: 40, total_tokens: promptTokens + 40 },
  });
}

export interface LlmRequest {
  prompt: string;
  model: string;
  /** Characters across every message. */
  chars: number;
  actor: string;
  tokens: string[];
}

export class Llm {
  readonly prompts: string[] = [];
  readonly violations: Violation[] = [];
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Calls the circuit breaker let through, when a test counts them: more calls is a violation. */
  tickets: number | null = null;
  /** A prompt longer than this gets `400 context_length_exceeded`, as from a small model. */
  contextChars = Infinity;
  private readonly options: LlmOptions;

  constructor(options: LlmOptions) {
    this.options = options;
  }

  /** Reads and records one call. */
  async read(request: Request): Promise<LlmRequest> {
    const body = (await request.json()) as { model?: string; messages?: { content?: unknown }[] };
    const contents = (body.messages ?? []).map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "")));
    const prompt = contents[0] ?? "";
    const part = actionsPart(prompt);
    const tokens = tokensIn(part);
    const actor = this.options.ledger?.owner(tokens[0] ?? "") ?? "?";
    this.calls += 1;
    this.prompts.push(prompt);
    this.options.events.push({ kind: "llm", id: String(this.calls) });
    if (this.tickets !== null && this.calls > this.tickets) {
      this.violations.push({ invariant: "protocol", actor, message: "LLM called without the circuit breaker's leave" });
    }
    const lines = part.split("\n").filter((l) => /^\d+\. /.test(l)).length;
    const max = this.options.maxPromptActions;
    if (max !== undefined && lines > max) {
      this.violations.push({ invariant: "5-bounded", actor, message: `prompt carries ${lines} actions (at most ${max})` });
    }
    const maxChars = this.options.maxPromptChars;
    if (maxChars !== undefined && prompt.length > maxChars) {
      this.violations.push({ invariant: "5-bounded", actor, message: `prompt of ${prompt.length} characters (at most ${maxChars})` });
    }
    return { prompt, model: body.model ?? "world", chars: contents.reduce((n, c) => n + c.length, 0), actor, tokens };
  }

  /**
   * What a summary of this prompt covers: its actions, what the previous summary covered (rolling),
   * and `inherited` (what an extractive fallback it builds on covered).
   */
  coverage(call: LlmRequest, inherited: Iterable<string> = []): Set<string> {
    return new Set([...(decodeCoverage(call.prompt) ?? []), ...inherited, ...call.tokens]);
  }

  /** A good answer: a summary covering the prompt's actions (and, rolling, what the previous one covered). */
  answer(call: LlmRequest, inherited: Iterable<string> = []): Response {
    const { summaryText } = this.options;
    if (summaryText !== undefined) return completion(summaryText, call.model, call.chars);
    const covers = this.coverage(call, inherited);
    // A prompt that elided actions still stands for its whole window: say so, the receiver credits it.
    const elided = ELIDED_RE.test(call.prompt) ? ` ${ELIDED_MARK}` : "";
    return completion(`Summary #${this.calls}: The user went through ${call.tokens.length} more steps.${elided} ${encodeCoverage(covers)}`, call.model, call.chars);
  }

  /** An answer that must never be posted; the receiver is told so. */
  badAnswer(kind: BadSummary, call: LlmRequest): Response {
    this.options.badSummaries.add(BAD_TEXTS[kind]);
    return completion(BAD_TEXTS[kind], call.model, call.chars);
  }
}
