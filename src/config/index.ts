/**
 * @module
 * One typed config, parsed once per environment object. Every setting is read here and nowhere
 * else. The rule for a bad setting, wherever it is used: its section holds a `ConfigError` naming
 * it; a route that needs that section answers 503 `misconfigured` with the message (worker.ts maps
 * it), a step that needs it parks with the message, and `GET /healthz` lists it. Broken
 * destination settings never stop ingest: steps park and the context waits. A credential that is
 * simply not set keeps refusing as before (`not_configured`, 401).
 */
import type { LogLevel } from "../log";
import { parseAccess, type AccessConfig } from "./access";
import { parseCore, type CoreConfig } from "./core";
import { parseDestination, type DestinationConfig } from "./destination";
import { defaultDestinationEntry, type DestinationEntry } from "./destinationEntry";
import { ConfigError, need, oneOf, section, text, type Section, type Vars } from "./settings";
import { parseStream, type StreamConfig } from "./stream";

export { parseAccess, posthogSecretFor, readPosthogSecrets, type AccessConfig, type PosthogSecrets, type ProductCaching, type SecretLookup } from "./access";
export { parseCore, type CoreConfig, type LlmConfig } from "./core";
export {
  parseDestination,
  readIntercomSettings,
  readDelivery,
  readSlackSettings,
  readWebhookSettings,
  type Delivery,
  type DestinationConfig,
  type AutoplaySettings,
  type IntercomSettings,
  type SlackSettings,
  type WebhookSettings,
} from "./destination";
export { defaultDestinationEntry, resolveDestination, type DestinationEntry, type SecretRef } from "./destinationEntry";
export { ConfigError, need, type Section, type SettingName, type Vars } from "./settings";
export { parseStream, type StreamConfig } from "./stream";

export interface Config {
  /** Without it no session can run: session routes answer 503 `misconfigured`. */
  core: Section<CoreConfig>;
  /** Broken: every destination step parks with its error; ingest still accepts. */
  destination: Section<DestinationConfig>;
  /** `DESTINATION` as set (default `store`), shown even when its settings are broken. */
  destinationName: string;
  /** The environment's destination as an entry (secrets by name), what notes record; null for an unknown `DESTINATION`. */
  destinationEntry: DestinationEntry | null;
  access: AccessConfig;
  /** The product stream's bounds; broken: `GET /stream/:product_id` answers 503 `misconfigured`. */
  stream: Section<StreamConfig>;
  /** `LOG_LEVEL`; an unusable value logs everything (info) rather than hide errors, and is a problem. */
  logLevel: LogLevel;
  /** `METER=on`: count billed operations for `GET /v1/meter` (a benchmarking aid); an unusable value is off, and a problem. */
  meter: boolean;
  /** Every setting that is set but unusable (the first per section), for `GET /healthz`. */
  problems: readonly ConfigError[];
}

/** Parses every setting. Never throws: a broken section holds its `ConfigError`. */
export function parseConfig(vars: Vars): Config {
  const core = section(() => parseCore(vars));
  const destination = section(() => parseDestination(vars));
  const access = parseAccess(vars);
  const stream = section(() => parseStream(vars));
  const logLevel = section(() => oneOf(vars, "LOG_LEVEL", ["info", "warn", "error"] as const, "info"));
  const meter = section(() => oneOf(vars, "METER", ["off", "on"] as const, "off"));
  const sections = [core, destination, access.posthog, access.publishableKeys, access.caching, stream, logLevel, meter];
  return {
    core,
    destination,
    destinationName: text(vars, "DESTINATION") ?? "store",
    destinationEntry: defaultDestinationEntry(vars),
    access,
    stream,
    logLevel: logLevel instanceof ConfigError ? "info" : logLevel,
    meter: meter === "on",
    problems: sections.filter((s) => s instanceof ConfigError),
  };
}

const built = new WeakMap<Env, Config>();

/**
 * The config of this environment, parsed on first use (the isolate keeps one `env` object).
 * @example const { apiToken } = loadConfig(c.env).access
 */
export function loadConfig(env: Env): Config {
  let config = built.get(env);
  if (!config) {
    config = parseConfig(env);
    built.set(env, config);
  }
  return config;
}

/** What a session actor runs with: the core settings and its destination's. */
export interface SessionConfig extends CoreConfig {
  /** {@link Config.destinationName}, or the product's destination types joined by "+" (`intercom+webhook`). */
  destination: string;
  /** The outbound destinations, one lane each (`session/lanes.ts`); none when the store is the only one. */
  lanes: readonly LaneConfig[];
}

/** One outbound destination of a session. */
export interface LaneConfig {
  /** The destination as an entry (JSON, secrets by name): the lane's identity and what its notes record. */
  entry: string;
  /** Its settings, or the `ConfigError` every step of the lane parks with. */
  settings: Section<DestinationConfig>;
}

/** The lane of one destination: none for the store. An unknown `DESTINATION` is a lane whose steps park with its error. */
export function lanesOfEntry(entry: DestinationEntry | null, name: string, settings: Section<DestinationConfig>): LaneConfig[] {
  if (entry?.type === "store" || (entry === null && name === "store")) return [];
  return [{ entry: JSON.stringify(entry ?? { type: name }), settings }];
}

/** Throws the core `ConfigError`: an actor cannot run without its core settings. */
export function sessionConfig(env: Env): SessionConfig {
  return sessionConfigOf(loadConfig(env));
}

/** {@link sessionConfig} of a parsed config (pure, for Node tests). */
export function sessionConfigOf(config: Config): SessionConfig {
  return {
    ...need(config.core),
    destination: config.destinationName,
    lanes: lanesOfEntry(config.destinationEntry, config.destinationName, config.destination),
  };
}
