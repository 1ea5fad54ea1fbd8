/**
 * The outside world for pipeline tests, at the fetch boundary: a Standard Webhooks receiver
 * (hooks.test) that keeps notes by webhook-id and applies redactions, and an OpenAI-compatible
 * LLM (llm.test). Each answers from a queue of scripted faults, then normally.
 */
import { vi } from "vitest";

export type HookFault = "ok" | "500" | "429" | "timeout-landed" | "timeout-lost";
export type LlmFault = "500" | "empty" | "error-text" | "hang";

export interface ReceivedNote {
  id: string;
  type: string;
  text: string;
  window: number;
  redacted: boolean;
  receivedAt: number;
}

export interface Event {
  kind: "post" | "redact" | "llm";
  id: string;
  type?: string;
}

export function installFakeWorld(options: { llmDelayMs?: number } = {}) {
  const notes = new Map<string, ReceivedNote>();
  const events: Event[] = [];
  const hookFaults: HookFault[] = [];
  const llmFaults: LlmFault[] = [];
  const prompts: string[] = [];
  let llmCalls = 0;
  let llmDelayMs = options.llmDelayMs ?? 0;
  let llmContextChars = Infinity;

  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    if (url.host === "llm.test") {
      llmCalls += 1;
      const body = (await request.json()) as { messages: { content: string }[] };
      prompts.push(body.messages[0]!.content);
      events.push({ kind: "llm", id: String(llmCalls) });
      const fault = llmFaults.shift();
      if (fault === "hang") {
        // Never answers; only the caller's timeout (an aborted signal) ends the wait, as with real fetch.
        await new Promise((_resolve, reject) => {
          request.signal.addEventListener("abort", () => reject(request.signal.reason));
        });
      }
      if (llmDelayMs) await new Promise((resolve) => setTimeout(resolve, llmDelayMs));
      if (body.messages[0]!.content.length > llmContextChars) {
        // What OpenAI answers for a prompt over the model's context window.
        const error = { message: "This model's maximum context length was exceeded", type: "invalid_request_error", code: "context_length_exceeded" };
        return Response.json({ error }, { status: 400 });
      }
      if (fault === "500") return new Response(JSON.stringify({ error: { message: "boom" } }), { status: 500 });
      const content = fault === "empty" ? "" : fault === "error-text" ? "Error: model overloaded" : `Summary #${llmCalls}: the user clicked around.`;
      return Response.json({
        id: "cmpl",
        object: "chat.completion",
        created: 0,
        model: "test",
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      });
    }
    if (url.host === "hooks.test") {
      const id = request.headers.get("webhook-id")!;
      const event = (await request.json()) as { type: string; data: { text?: string; window: number; redacts?: string } };
      const fault = hookFaults.shift();
      if (fault === "500") return new Response("down", { status: 500 });
      if (fault === "429") return new Response("slow down", { status: 429, headers: { "retry-after": "1" } });
      if (fault === "timeout-lost") throw new DOMException("timed out", "TimeoutError");
      if (event.type === "context.redaction") {
        const target = notes.get(event.data.redacts!);
        if (target && !target.redacted) {
          target.redacted = true;
          events.push({ kind: "redact", id: event.data.redacts! });
        }
      } else if (!notes.has(id)) {
        // Receivers dedupe on webhook-id, as Standard Webhooks tells them to.
        notes.set(id, { id, type: event.type, text: event.data.text ?? "", window: event.data.window, redacted: false, receivedAt: Date.now() });
        events.push({ kind: "post", id, type: event.type });
      }
      if (fault === "timeout-landed") throw new DOMException("timed out", "TimeoutError");
      return new Response(null, { status: 204 });
    }
    return new Response("unexpected host", { status: 599 });
  });

  return {
    notes,
    events,
    prompts,
    get llmCalls() {
      return llmCalls;
    },
    failHook(...faults: HookFault[]) {
      hookFaults.push(...faults);
    },
    failLlm(...faults: LlmFault[]) {
      llmFaults.push(...faults);
    },
    /** From now on, a prompt longer than this gets `400 context_length_exceeded`, as from a small model. */
    setLlmContextChars(chars: number) {
      llmContextChars = chars;
    },
    setLlmDelay(ms: number) {
      llmDelayMs = ms;
    },
    live(type?: string) {
      return [...notes.values()].filter((n) => !n.redacted && (type === undefined || n.type === type));
    },
    restore() {
      spy.mockRestore();
    },
  };
}

export type FakeWorld = ReturnType<typeof installFakeWorld>;
