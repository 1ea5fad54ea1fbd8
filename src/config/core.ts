/**
 * @module
 * The core settings every session runs with: the window threshold, summary mode, prompt and format,
 * debounce, timeouts, attempts, idle and retention, the pre-link hold, the LLM and its breaker.
 */
import type { FormatterName } from "../session/format";
import { DEFAULT_PROMPT, MIN_ACTIONS_CHARS, templateCost, type SummaryMode } from "../session/prompt";
import { MAX_EVENTS_PER_REQUEST } from "../sources/common";
import { memoryOn, parseEmbed, type EmbedConfig } from "./memory";
import { ConfigError, int, oneOf, text, type Vars } from "./settings";

export interface LlmConfig {
  /** OpenAI-compatible base URL; null with no API key means the extractive summariser. */
  baseURL: string | null;
  apiKey: string | null;
  model: string;
  temperature: number;
  maxTokens: number;
  timeoutMs: number;
  /** Consecutive LLM failures (timeouts, connection errors, 429, 5xx) that open the circuit breaker. */
  breakerFailures: number;
  /** How long an open breaker holds LLM calls before one probe goes through. */
  breakerPauseMs: number;
}

export interface CoreConfig {
  threshold: number;
  mode: SummaryMode;
  prompt: string;
  /** No prompt is longer: an oversized window is clipped and elided to fit (session/prompt.ts). */
  maxPromptChars: number;
  formatter: FormatterName;
  debounceMs: number;
  debounceMaxMs: number;
  destinationTimeoutMs: number;
  maxAttempts: number;
  /** An open window below K with no new action for this long is closed, so it gets summarised. */
  idleMs: number;
  /** A session with no new action for this long erases its storage. Always longer than `idleMs`. */
  retentionMs: number;
  /** Before a link, raw actions are held this long (sliding, by arrival); older ones wait for their summary. */
  preLinkWindowMs: number;
  /** How long a session remembers an Idempotency-Key, a batch's content hash or a source event id. */
  idempotencyTtlMs: number;
  /** A session's backlog bound (actions and bytes not yet covered by a posted summary); past it, ingest answers 429. */
  maxPendingActions: number;
  maxPendingBytes: number;
  llm: LlmConfig;
  /** `MEMORY`: each summary is indexed in the product's memory (`product/memory/`). */
  memory: boolean;
  /** Vectors for memory; null: full-text only (`config/memory.ts`). */
  embed: EmbedConfig | null;
}

const DEFAULTS = {
  threshold: 10,
  /**
   * Fits a small model's context: an 8k-token local model at ~4 characters per token holds 32k
   * characters; 20k leaves room for denser text (URLs, ids, non-English: ~3 per token), the
   * 256-token answer and the chat framing. gpt-4o-mini (128k tokens) is far from it.
   */
  maxPromptChars: 20_000,
  debounceMaxMs: 5_000,
  destinationTimeoutMs: 10_000,
  llmTimeoutMs: 20_000,
  maxAttempts: 8,
  idleMs: 30 * 60_000,
  retentionMs: 7 * 24 * 60 * 60_000,
  preLinkWindowMs: 120_000,
  // As Stripe does; PostHog and Segment retry deliveries for hours, well within a day.
  idempotencyTtlMs: 24 * 60 * 60_000,
  // 200 windows at the default K, four full 500-action batches: a burst far beyond any user's pace
  // fits, and what a runaway sender or a long LLM outage can pile up stays a few MB.
  maxPendingActions: 2_000,
  // About 2 KB for each of those actions (a typical one is 250-500 bytes); binds only for bulky actions.
  maxPendingBytes: 4 * 1024 * 1024,
  breakerFailures: 5,
  breakerPauseMs: 60_000,
} as const;

const DAY_MS = 24 * 60 * 60_000;
/**
 * The bound must admit the largest single batch into an empty backlog, or a 429 would never clear:
 * a source delivery's events for one session, and a batch's stored bytes (1 MiB body plus defaults).
 */
const MIN_PENDING_ACTIONS = MAX_EVENTS_PER_REQUEST;
const MIN_PENDING_BYTES = 2 * 1024 * 1024;

/** Parses the core settings. Throws `ConfigError` naming the first unusable one. */
export function parseCore(vars: Vars): CoreConfig {
  const debounceMs = int(vars, "DEBOUNCE_MS", 0, 0, 600_000);
  const prompt = text(vars, "SUMMARY_PROMPT") ?? DEFAULT_PROMPT;
  if (!prompt.includes("{actions}")) {
    throw new ConfigError("SUMMARY_PROMPT", 'SUMMARY_PROMPT must contain the placeholder "{actions}"');
  }
  const maxPromptChars = int(vars, "SUMMARY_MAX_PROMPT_CHARS", DEFAULTS.maxPromptChars, 2_000, 1_000_000);
  const { fixedChars, slots } = templateCost(prompt);
  if (maxPromptChars < fixedChars + slots * MIN_ACTIONS_CHARS) {
    throw new ConfigError(
      "SUMMARY_MAX_PROMPT_CHARS",
      `SUMMARY_MAX_PROMPT_CHARS (${maxPromptChars}) must leave at least ${MIN_ACTIONS_CHARS} characters for each {actions} of SUMMARY_PROMPT (${fixedChars} characters of its own)`,
    );
  }
  const idleMs = int(vars, "SESSION_IDLE_MS", DEFAULTS.idleMs, 1_000, 30 * DAY_MS);
  const retentionMs = int(vars, "SESSION_RETENTION_MS", DEFAULTS.retentionMs, 60_000, 365 * DAY_MS);
  // A session erased before its idle window closes would lose actions that were never summarised.
  if (retentionMs <= idleMs) {
    throw new ConfigError("SESSION_RETENTION_MS", `SESSION_RETENTION_MS (${retentionMs}) must be longer than SESSION_IDLE_MS (${idleMs})`);
  }
  const llmTimeoutMs = int(vars, "LLM_TIMEOUT_MS", DEFAULTS.llmTimeoutMs, 100, 300_000);
  return {
    threshold: int(vars, "SUMMARY_THRESHOLD", DEFAULTS.threshold, 1, 1_000),
    mode: oneOf(vars, "SUMMARY_MODE", ["rolling", "independent"] as const, "rolling"),
    prompt,
    maxPromptChars,
    formatter: oneOf(vars, "SUMMARY_FORMAT", ["numbered", "by-page"] as const, "numbered"),
    debounceMs,
    debounceMaxMs: Math.max(debounceMs, int(vars, "DEBOUNCE_MAX_MS", DEFAULTS.debounceMaxMs, 0, 3_600_000)),
    destinationTimeoutMs: int(vars, "DESTINATION_TIMEOUT_MS", DEFAULTS.destinationTimeoutMs, 100, 120_000),
    maxAttempts: int(vars, "STEP_MAX_ATTEMPTS", DEFAULTS.maxAttempts, 1, 100),
    idleMs,
    retentionMs,
    preLinkWindowMs: int(vars, "PRE_LINK_WINDOW_MS", DEFAULTS.preLinkWindowMs, 0, DAY_MS),
    idempotencyTtlMs: int(vars, "IDEMPOTENCY_TTL_MS", DEFAULTS.idempotencyTtlMs, 60_000, 30 * DAY_MS),
    maxPendingActions: int(vars, "SESSION_MAX_PENDING_ACTIONS", DEFAULTS.maxPendingActions, MIN_PENDING_ACTIONS, 1_000_000),
    maxPendingBytes: int(vars, "SESSION_MAX_PENDING_BYTES", DEFAULTS.maxPendingBytes, MIN_PENDING_BYTES, 1024 * 1024 * 1024),
    llm: {
      baseURL: text(vars, "LLM_BASE_URL") ?? null,
      apiKey: text(vars, "LLM_API_KEY") ?? text(vars, "OPENAI_API_KEY") ?? null,
      model: text(vars, "LLM_MODEL") ?? "gpt-4o-mini",
      temperature: 0.3,
      maxTokens: 256,
      timeoutMs: llmTimeoutMs,
      breakerFailures: int(vars, "LLM_BREAKER_FAILURES", DEFAULTS.breakerFailures, 1, 1_000),
      breakerPauseMs: int(vars, "LLM_BREAKER_PAUSE_MS", DEFAULTS.breakerPauseMs, 10, DAY_MS),
    },
    memory: memoryOn(vars),
    embed: parseEmbed(vars, llmTimeoutMs),
  };
}
