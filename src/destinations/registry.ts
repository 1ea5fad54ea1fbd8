/**
 * @module
 * Builds the outbound destination the config names. Broken destination settings throw their
 * `ConfigError`, so a misconfigured deployment parks its steps with that error instead of dropping
 * context. The store is not outbound: the session's own rows are the context, no step calls out.
 */
import { need, type SessionConfig } from "../config";
import { createIntercomDestination } from "./intercom";
import type { Destination, DestinationDeps } from "./types";
import { createWebhookDestination } from "./webhook";

export function createDestination(config: Pick<SessionConfig, "destinationSettings">, deps: DestinationDeps): Destination {
  const settings = need(config.destinationSettings);
  switch (settings.kind) {
    case "store":
      throw new Error("the store destination is the session's own rows: it has no outbound calls");
    case "webhook":
      return createWebhookDestination(settings, deps);
    case "intercom":
      return createIntercomDestination(settings, deps);
  }
}
