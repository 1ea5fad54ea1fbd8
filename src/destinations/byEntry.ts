/**
 * @module
 * A session's destinations by their lane's entry (JSON). Each is built once; broken settings are
 * kept as the error every step of that lane parks with.
 */
import { resolveDestination, type DestinationEntry, type SessionConfig } from "../config";
import { createDestination } from "./registry";
import type { Destination } from "./types";

export class DestinationsByEntry {
  private readonly built = new Map<string, { value: Destination } | { error: Error }>();

  constructor(private readonly env: Env) {}

  /** The destination of a lane's entry: the configured lane's settings, or the entry resolved now. */
  get(config: SessionConfig, entry: string): Destination {
    let built = this.built.get(entry);
    if (!built) {
      try {
        const settings = config.lanes.find((l) => l.entry === entry)?.settings ?? resolveDestination(JSON.parse(entry) as DestinationEntry, this.env);
        const value = createDestination(settings, {
          fetch: (input, init) => fetch(input, init),
          now: () => Date.now(),
          timeoutMs: config.destinationTimeoutMs,
          publish: (productId, events) => this.env.STREAM.getByName(productId).publish(events),
        });
        built = { value };
      } catch (err) {
        built = { error: err instanceof Error ? err : new Error(String(err)) };
      }
      this.built.set(entry, built);
    }
    if ("error" in built) throw built.error;
    return built.value;
  }

  /** The settings changed: build again on next use. */
  clear(): void {
    this.built.clear();
  }
}
