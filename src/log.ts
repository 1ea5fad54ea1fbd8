/**
 * @module
 * Structured JSON log lines (`area:verb` events) for Workers Logs. Callers pass identifiers and
 * figures only: never action text, summaries or secrets. `LOG_LEVEL` (info | warn | error,
 * default info) drops the chatty lines: every step logs `step:done` at info.
 */

export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type LogLevel = "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 };
let threshold: LogLevel = "info";

/** Sets the level for this isolate from the `LOG_LEVEL` setting; unknown values mean info. */
export function configureLogging(level: string | undefined): void {
  threshold = level === "warn" || level === "error" ? level : "info";
}

/** Retries, held calls and fallbacks are warnings; parked steps, invalid signatures and failures are errors. */
export function levelOf(event: string): LogLevel {
  if (/:(parked|error|invalid|invalid_signature)$/.test(event) || event === "breaker:open") return "error";
  if (/:(retry|held|fallback)$/.test(event) || event.startsWith("breaker:")) return "warn";
  return "info";
}

export function log(event: string, fields: LogFields = {}): void {
  const level = levelOf(event);
  if (RANK[level] < RANK[threshold]) return;
  console.log(JSON.stringify({ event, level, ...fields }));
}
