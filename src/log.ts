/**
 * @module
 * Structured JSON log lines (`area:verb` events) for Workers Logs. Callers pass identifiers and
 * figures only: never action text, summaries or secrets.
 */

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export function log(event: string, fields: LogFields = {}): void {
  console.log(JSON.stringify({ event, ...fields }));
}
