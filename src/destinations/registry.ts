/**
 * @module
 * Builds the destination the config names. Broken destination settings throw their `ConfigError`,
 * so a misconfigured deployment parks its steps with that error instead of dropping context.
 */
import { need, type SessionConfig } from "../config";
import { createIntercomDestination } from "./intercom";
import { createStoreDestination } from "./store";
import type { Destination, DestinationDeps } from "./types";
import { createWebhookDestination } from "./webhook";

export function createDestination(config: Pick<SessionConfig, "destinationSettings">, deps: DestinationDeps): Destination {
  const settings = need(config.destinationSettings);
  switch (settings.kind) {
    case "store":
      return createStoreDestination();
    case "webhook":
      return createWebhookDestination(settings, deps);
    case "intercom":
      return createIntercomDestination(settings, deps);
  }
}
