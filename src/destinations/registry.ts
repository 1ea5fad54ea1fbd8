/**
 * @module
 * Picks the destination named by `DESTINATION`. Unknown names and missing settings throw, so a
 * misconfigured deployment parks its steps with a clear error instead of dropping context.
 */
import type { Config } from "../config";
import { createIntercomDestination, readIntercomSettings } from "./intercom";
import { createStoreDestination } from "./store";
import type { Destination, DestinationDeps } from "./types";
import { createWebhookDestination, readWebhookSettings } from "./webhook";

type Factory = (config: Config, deps: DestinationDeps) => Destination;

const FACTORIES: Record<string, Factory> = {
  store: () => createStoreDestination(),
  webhook: (config, deps) => createWebhookDestination(readWebhookSettings(config.raw), deps),
  intercom: (config, deps) => createIntercomDestination(readIntercomSettings(config.raw), deps),
};

export const DESTINATION_NAMES = Object.keys(FACTORIES);

export function createDestination(config: Config, deps: DestinationDeps): Destination {
  const factory = FACTORIES[config.destination];
  if (!factory) {
    throw new Error(`DESTINATION "${config.destination}" is not one of ${DESTINATION_NAMES.join(", ")}`);
  }
  return factory(config, deps);
}
