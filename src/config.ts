/**
 * @module
 * Settings read from the Worker's environment (wrangler vars and secrets), with defaults and
 * clear errors. Pure: takes a plain record so it is testable in Node.
 */
import type { FormatterName } from "./session/format";
import { DEFAULT_PROMPT, type SummaryMode } from "./session/prompt";

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

export interface Config {
  threshold: number;
  mode: SummaryMode;
  prompt: string;
  formatter: FormatterName;
  debounceMs: number;
  debounceMaxMs: number;
  destination: string;
  destinationTimeoutMs: number;
  maxAttempts: number;
  /** An open window below K with no new action for this long is closed, so it gets summarised. */
  idleMs: number;
  /** A session with no new action for this long erases its storage. Always longer than `idleMs`. */
  retentionMs: number;
  /** Before a link, raw actions are held this long (sliding, by arrival); older ones wait for their summary. */
  preLinkWindowMs: number;
  llm: LlmConfig;
  /** Every raw setting, for destinations that read their own (WEBHOOK_URL, INTERCOM_ADMIN_ID, ...). */
  raw: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type RawEnv = Readonly<Record<string, unknown>>;

function text(env: RawEnv, name: string): string | undefined {
  const v = env[name];
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function int(env: RawEnv, name: string, fallback: number, min: number, max: number): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const n = Number(v.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

function oneOf<T extends string>(env: RawEnv, name: string, allowed: readonly T[], fallback: T): T {
  const v = text(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${v}"`);
  }
  return v as T;
}

export const DEFAULTS = {
  threshold: 10,
  debounceMaxMs: 5_000,
  destinationTimeoutMs: 10_000,
  llmTimeoutMs: 20_000,
  maxAttempts: 8,
  idleMs: 30 * 60_000,
  retentionMs: 7 * 24 * 60 * 60_000,
  preLinkWindowMs: 120_000,
  breakerFailures: 5,
  breakerPauseMs: 60_000,
} as const;

const DAY_MS = 24 * 60 * 60_000;

/** Parses the environment. Throws `ConfigError` naming the setting when a value is unusable. */
export function readConfig(env: RawEnv): Config {
  const apiKey = text(env, "LLM_API_KEY") ?? text(env, "OPENAI_API_KEY") ?? null;
  const baseURL = text(env, "LLM_BASE_URL") ?? null;
  const debounceMs = int(env, "DEBOUNCE_MS", 0, 0, 600_000);
  const prompt = text(env, "SUMMARY_PROMPT") ?? DEFAULT_PROMPT;
  if (!prompt.includes("{actions}")) {
    throw new ConfigError('SUMMARY_PROMPT must contain the placeholder "{actions}"');
  }
  const idleMs = int(env, "SESSION_IDLE_MS", DEFAULTS.idleMs, 1_000, 30 * DAY_MS);
  const retentionMs = int(env, "SESSION_RETENTION_MS", DEFAULTS.retentionMs, 60_000, 365 * DAY_MS);
  // A session erased before its idle window closes would lose actions that were never summarised.
  if (retentionMs <= idleMs) {
    throw new ConfigError(`SESSION_RETENTION_MS (${retentionMs}) must be longer than SESSION_IDLE_MS (${idleMs})`);
  }
  const raw: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") raw[k] = v;
  return {
    threshold: int(env, "SUMMARY_THRESHOLD", DEFAULTS.threshold, 1, 1_000),
    mode: oneOf(env, "SUMMARY_MODE", ["rolling", "independent"] as const, "rolling"),
    prompt,
    formatter: oneOf(env, "SUMMARY_FORMAT", ["numbered", "by-page"] as const, "numbered"),
    debounceMs,
    debounceMaxMs: Math.max(debounceMs, int(env, "DEBOUNCE_MAX_MS", DEFAULTS.debounceMaxMs, 0, 3_600_000)),
    destination: text(env, "DESTINATION") ?? "store",
    destinationTimeoutMs: int(env, "DESTINATION_TIMEOUT_MS", DEFAULTS.destinationTimeoutMs, 100, 120_000),
    maxAttempts: int(env, "STEP_MAX_ATTEMPTS", DEFAULTS.maxAttempts, 1, 100),
    idleMs,
    retentionMs,
    preLinkWindowMs: int(env, "PRE_LINK_WINDOW_MS", DEFAULTS.preLinkWindowMs, 0, DAY_MS),
    llm: {
      baseURL,
      apiKey,
      model: text(env, "LLM_MODEL") ?? "gpt-4o-mini",
      temperature: 0.3,
      maxTokens: 256,
      timeoutMs: int(env, "LLM_TIMEOUT_MS", DEFAULTS.llmTimeoutMs, 100, 300_000),
      breakerFailures: int(env, "LLM_BREAKER_FAILURES", DEFAULTS.breakerFailures, 1, 1_000),
      breakerPauseMs: int(env, "LLM_BREAKER_PAUSE_MS", DEFAULTS.breakerPauseMs, 10, DAY_MS),
    },
    raw,
  };
}
