/**
 * @module
 * A session's destinations by the entry a note was prepared for: the configured one, or an earlier
 * one of the product's (a note is redacted where it was posted). Each is built once; broken
 * settings are kept as the error every step for that entry parks with.
 */
import { resolveDestination, type DestinationEntry, type SessionConfig } from "../config";
import { createDestination } from "./registry";
import type { Destination } from "./types";

export class DestinationsByEntry {
  private readonly built = new Map<string, { value: Destination } | { error: Error }>();

  constructor(private readonly env: Env) {}

  /** The destination of a note's entry (JSON), or the configured one for null or the configured entry. */
  get(config: SessionConfig, entry: string | null): Destination {
    const current = config.destinationEntry ? JSON.stringify(config.destinationEntry) : null;
    const key = entry === null || entry === current ? "" : entry;
    let built = this.built.get(key);
    if (!built) {
      try {
        const settings = key === "" ? config.destinationSettings : resolveDestination(JSON.parse(key) as DestinationEntry, this.env);
        const value = createDestination({ destinationSettings: settings }, {
          fetch: (input, init) => fetch(input, init),
          now: () => Date.now(),
          timeoutMs: config.destinationTimeoutMs,
        });
        built = { value };
      } catch (err) {
        built = { error: err instanceof Error ? err : new Error(String(err)) };
      }
      this.built.set(key, built);
    }
    if ("error" in built) throw built.error;
    return built.value;
  }

  /** The settings changed: build again on next use. */
  clear(): void {
    this.built.clear();
  }
}
