/**
 * @module
 * A destination as a product names it (`{"type": "webhook", "url": …, "secret": {"env": "NAME"}}`),
 * and the one way an entry becomes a destination's settings: the environment variables it stands
 * for, read by `parseDestination`, secrets looked up by name at use. The environment's own
 * destination is an entry too, so every note records the entry it was prepared for.
 */
import { parseDestination, type Delivery, type DestinationConfig } from "./destination";
import { ConfigError, section, text, type Section, type SettingName, type Vars } from "./settings";

/** A secret given by the name of the Worker secret (or var) that holds it: `{"env": "NAME"}`. */
export interface SecretRef {
  env: string;
}

/**
 * One destination as a product names it: the environment's settings lowercased without their
 * prefix (`WEBHOOK_URL` → `url`), secrets as {@link SecretRef}. Stored on each note it is prepared
 * for, so it holds nothing secret.
 */
export type DestinationEntry =
  | { type: "store" }
  | { type: "webhook"; url: string; secret: SecretRef; delivery?: Delivery }
  | { type: "intercom"; access_token: SecretRef; admin_id: string; api_base?: string; version?: string }
  | { type: "autoplay"; forward_url: string; secret: SecretRef }
  | { type: "stream" }
  | { type: "slack"; bot_token: SecretRef; channel?: string; api_base?: string; delivery?: Delivery };

/** The variables a destination entry stands for; its fields are these names lowercased without the prefix. */
const DESTINATION_VARS = [
  "DESTINATION",
  "DELIVERY",
  "WEBHOOK_URL",
  "WEBHOOK_SECRET",
  "INTERCOM_ACCESS_TOKEN",
  "INTERCOM_ADMIN_ID",
  "INTERCOM_API_BASE",
  "INTERCOM_VERSION",
  "AUTOPLAY_FORWARD_URL",
  "AUTOPLAY_SECRET",
  "SLACK_BOT_TOKEN",
  "SLACK_CHANNEL",
  "SLACK_API_BASE",
] as const satisfies readonly SettingName[];

/** `WEBHOOK_URL` → `url`: the field of an entry that stands for an environment variable. */
export const fieldOfDestinationVar = (name: string): string =>
  name === "DESTINATION" ? "type" : name.replace(/^(WEBHOOK|INTERCOM|AUTOPLAY|SLACK)_/, "").toLowerCase();

/** A secret name as Workers allow it; the root credential can never stand in for another secret. */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The value of the string variable `name`, if set. Names come from stored settings, so the lookup is by key. */
export function envValue(vars: Vars, name: string): string | undefined {
  const value: unknown = Object.hasOwn(vars, name) ? Reflect.get(vars, name) : undefined;
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** What is wrong with a secret reference, or null when it names a secret that is set. */
export function secretRefProblem(vars: Vars, ref: SecretRef): string | null {
  if (!SECRET_NAME.test(ref.env)) return `env must be a variable name, got ${JSON.stringify(ref.env.slice(0, 40))}`;
  if (ref.env === "API_TOKEN") return "env must not name API_TOKEN, the root credential";
  if (envValue(vars, ref.env) === undefined) return `env names ${ref.env}, which is not set as a Worker secret or var`;
  return null;
}

/** The environment's own destination as an entry (secrets by their variable names); null for an unknown `DESTINATION`. */
export function defaultDestinationEntry(vars: Vars): DestinationEntry | null {
  const type = text(vars, "DESTINATION") ?? "store";
  if (type === "store" || type === "stream") return { type };
  if (type === "autoplay") return { type, forward_url: text(vars, "AUTOPLAY_FORWARD_URL") ?? "", secret: { env: "AUTOPLAY_SECRET" } };
  const delivery = text(vars, "DELIVERY");
  const deliveryField = delivery ? { delivery: delivery as Delivery } : {};
  if (type === "webhook") return { type, url: text(vars, "WEBHOOK_URL") ?? "", secret: { env: "WEBHOOK_SECRET" }, ...deliveryField };
  if (type === "intercom") {
    const apiBase = text(vars, "INTERCOM_API_BASE");
    const version = text(vars, "INTERCOM_VERSION");
    return {
      type,
      access_token: { env: "INTERCOM_ACCESS_TOKEN" },
      admin_id: text(vars, "INTERCOM_ADMIN_ID") ?? "",
      ...(apiBase ? { api_base: apiBase } : {}),
      ...(version ? { version } : {}),
    };
  }
  if (type === "slack") {
    const channel = text(vars, "SLACK_CHANNEL");
    const apiBase = text(vars, "SLACK_API_BASE");
    return { type, bot_token: { env: "SLACK_BOT_TOKEN" }, ...(channel ? { channel } : {}), ...(apiBase ? { api_base: apiBase } : {}), ...deliveryField };
  }
  return null;
}

/** The variables an entry stands for, secrets looked up by name. */
function destinationVars(entry: DestinationEntry, vars: Vars): Vars {
  switch (entry.type) {
    case "store":
      return { DESTINATION: "store" };
    case "webhook":
      return { DESTINATION: "webhook", WEBHOOK_URL: entry.url, WEBHOOK_SECRET: envValue(vars, entry.secret.env), DELIVERY: entry.delivery };
    case "intercom":
      return {
        DESTINATION: "intercom",
        INTERCOM_ACCESS_TOKEN: envValue(vars, entry.access_token.env),
        INTERCOM_ADMIN_ID: entry.admin_id,
        INTERCOM_API_BASE: entry.api_base,
        INTERCOM_VERSION: entry.version,
      };
    case "autoplay":
      return { DESTINATION: "autoplay", AUTOPLAY_FORWARD_URL: entry.forward_url, AUTOPLAY_SECRET: envValue(vars, entry.secret.env) };
    case "stream":
      return { DESTINATION: "stream" };
    case "slack":
      return {
        DESTINATION: "slack",
        SLACK_BOT_TOKEN: envValue(vars, entry.bot_token.env),
        SLACK_CHANNEL: entry.channel,
        SLACK_API_BASE: entry.api_base,
        DELIVERY: entry.delivery,
      };
  }
}

/** A message about environment variables, reworded in the names a product's settings use. */
export function renamed(message: string, names: readonly string[], field: (name: string) => string): string {
  // Longest first, so WEBHOOK_SECRET is not read as a part of another name.
  return [...names].sort((a, b) => b.length - a.length).reduce((m, name) => m.replaceAll(name, field(name)), message);
}

/**
 * The destination an entry names, with its secrets from the environment: its settings, or the
 * `ConfigError` its steps park with (a secret deleted since the PUT, say).
 * @param at how the entry's fields are named in messages (`destinations[0]`)
 */
export function resolveDestination(entry: DestinationEntry, vars: Vars, at = "destinations[0]"): Section<DestinationConfig> {
  const resolved = section(() => parseDestination(destinationVars(entry, vars)));
  if (!(resolved instanceof ConfigError)) return resolved;
  return new ConfigError(resolved.setting, renamed(resolved.message, DESTINATION_VARS, (n) => `${at}.${fieldOfDestinationVar(n)}`));
}

