/**
 * @module
 * Builds the outbound destination the config names. Broken destination settings throw their
 * `ConfigError`, so a misconfigured deployment parks its steps with that error instead of dropping
 * context. The store is not outbound: the session's own rows are the context, no step calls out.
 */
import { need, type DestinationConfig, type Section } from "../config";
import { meter, meterEnabled } from "../meter";
import { createAutoplayDestination } from "./autoplay";
import { createIntercomDestination } from "./intercom";
import { createSlackDestination } from "./slack";
import { createStreamDestination } from "./stream";
import type { Destination, DestinationDeps } from "./types";
import { createWebhookDestination } from "./webhook";

export function createDestination(settings: Section<DestinationConfig>, deps: DestinationDeps): Destination {
  const destination = build(need(settings), deps);
  return meterEnabled() ? metered(destination) : destination;
}

function build(settings: DestinationConfig, deps: DestinationDeps): Destination {
  switch (settings.kind) {
    case "store":
      throw new Error("the store destination is the session's own rows: it has no outbound calls");
    case "webhook":
      return createWebhookDestination(settings, deps);
    case "intercom":
      return createIntercomDestination(settings, deps);
    case "autoplay":
      return createAutoplayDestination(settings, deps);
    case "stream":
      return createStreamDestination(deps);
    case "slack":
      return createSlackDestination(settings, deps);
  }
}

/** Counts each call (`METER=on`), whatever its outcome. */
function metered(d: Destination): Destination {
  const { find, openThread, replace } = d;
  return {
    name: d.name,
    needsLink: d.needsLink,
    post: (session, note) => (meter.destinationCall(d.name, "post"), d.post(session, note)),
    redact: (session, part) => (meter.destinationCall(d.name, "redact"), d.redact(session, part)),
    ...(find && { find: (session, note) => (meter.destinationCall(d.name, "find"), find.call(d, session, note)) }),
    ...(replace && { replace: (session, context, partId) => (meter.destinationCall(d.name, "replace"), replace.call(d, session, context, partId)) }),
    ...(openThread && { openThread: (session, key, mayExist) => (meter.destinationCall(d.name, "thread"), openThread.call(d, session, key, mayExist)) }),
  };
}
