/**
 * @module
 * A product's settings over the environment's: what `PUT /v1/products/:p` stores (env names for
 * secrets, never their values) and the `SessionConfig` a session of that product runs with. The
 * environment stays the default for every setting a product does not set, so a deployment with no
 * product settings runs exactly as configured. Every value goes through the same parsers as the
 * environment's (`parseCore`, `parseDestination`) over an overlay of the variables, so a product
 * setting can never mean something its environment variable would not.
 */
import { parseCore } from "./core";
import { envValue, fieldOfDestinationVar, renamed, resolveDestination, secretRefProblem, type DestinationEntry, type SecretRef } from "./destinationEntry";
import { lanesOfEntry, sessionConfigOf, type Config, type SessionConfig } from "./index";
import { REPLACE_NEEDS_ROLLING } from "./destination";
import { ConfigError, section, text, type SettingName, type Vars } from "./settings";

export type { DestinationEntry, SecretRef } from "./destinationEntry";

/** What `PUT /v1/products/:p` stores. Absent means the environment's value. Times are milliseconds. */
export interface ProductSettings {
  threshold?: number;
  mode?: "rolling" | "independent";
  prompt?: string;
  format?: "numbered" | "by-page";
  debounce?: number;
  idle?: number;
  retention?: number;
  /** `MEMORY`: "off" indexes none of the product's summaries and its search says memory is off. */
  memory?: "on" | "off";
  /** Where the product's sessions write: each outbound entry is a lane of its own (fan-out); `store` is the session's own copy. */
  destinations?: DestinationEntry[];
  /** Replaces `CONNECTOR_SECRET` for this product, and works for this product only. */
  connector_secret?: SecretRef;
  /** Replaces `POSTHOG_WEBHOOK_SECRET(S)` for this product, and works for this product only. */
  posthog_webhook_secret?: SecretRef;
}

/** The product settings of the core section, by the environment variable each overrides. */
const CORE_FIELDS = {
  threshold: "SUMMARY_THRESHOLD",
  mode: "SUMMARY_MODE",
  prompt: "SUMMARY_PROMPT",
  format: "SUMMARY_FORMAT",
  debounce: "DEBOUNCE_MS",
  idle: "SESSION_IDLE_MS",
  retention: "SESSION_RETENTION_MS",
  memory: "MEMORY",
} as const satisfies Partial<Record<keyof ProductSettings, SettingName>>;

/** The environment overlaid with a product's core settings, as the variables they override. */
function coreVars(vars: Vars, settings: ProductSettings): Vars {
  const overlay: Partial<Record<SettingName, string>> = {};
  for (const [field, name] of Object.entries(CORE_FIELDS)) {
    const value = settings[field as keyof typeof CORE_FIELDS];
    if (value !== undefined) overlay[name] = String(value);
  }
  return { ...vars, ...overlay };
}

const coreField = (name: string): string => Object.entries(CORE_FIELDS).find(([, n]) => n === name)?.[0] ?? name;

/** A problem with a product's settings: the field at fault and the message, naming only fields. */
export interface SettingsProblem {
  field: string;
  message: string;
}

/**
 * Checks what the schema cannot: the settings together with the environment's (retention longer
 * than idle, a prompt that fits), each destination as its parser reads it, and that every secret
 * reference names a secret that is set now, so a bad name is a 422 at `PUT`, not a parked step.
 */
export function checkProductSettings(settings: ProductSettings, vars: Vars): SettingsProblem | null {
  const core = section(() => parseCore(coreVars(vars, settings)));
  if (core instanceof ConfigError) {
    return { field: coreField(core.setting), message: renamed(core.message, Object.values(CORE_FIELDS), coreField) };
  }
  const refs: [string, SecretRef | undefined][] = [
    ["connector_secret", settings.connector_secret],
    ["posthog_webhook_secret", settings.posthog_webhook_secret],
    ...(settings.destinations ?? []).flatMap((d, i): [string, SecretRef][] =>
      d.type === "webhook" || d.type === "autoplay"
        ? [[`destinations[${i}].secret`, d.secret]]
        : d.type === "intercom"
          ? [[`destinations[${i}].access_token`, d.access_token]]
          : d.type === "slack"
            ? [[`destinations[${i}].bot_token`, d.bot_token]]
            : [],
    ),
  ];
  for (const [field, ref] of refs) {
    const problem = ref && secretRefProblem(vars, ref);
    if (problem) return { field, message: `${field}.${problem}` };
  }
  const independent = (settings.mode ?? (text(vars, "SUMMARY_MODE") ?? "rolling")) === "independent";
  for (const [i, entry] of (settings.destinations ?? []).entries()) {
    if (independent && "delivery" in entry && entry.delivery === "replace") {
      return { field: `destinations[${i}].delivery`, message: `destinations[${i}].delivery: ${REPLACE_NEEDS_ROLLING.replace("DELIVERY=replace", "replace").replace("SUMMARY_MODE", "mode")}` };
    }
    const resolved = resolveDestination(entry, vars, `destinations[${i}]`);
    if (resolved instanceof ConfigError) return { field: `destinations[${i}].${fieldOfDestinationVar(resolved.setting)}`, message: resolved.message };
  }
  return null;
}

/**
 * The `SessionConfig` a session of a product runs with: the environment's, overlaid with the
 * product's settings. With no settings it is exactly {@link sessionConfigOf}. Throws the core
 * `ConfigError` (as `sessionConfig` does).
 * @example productConfig(loadConfig(env), env, await productSettings(env, "acme"))
 */
export function productConfig(config: Config, vars: Vars, settings: ProductSettings | null): SessionConfig {
  const base = sessionConfigOf(config);
  if (!settings) return base;
  const ownsCore = Object.keys(CORE_FIELDS).some((field) => settings[field as keyof typeof CORE_FIELDS] !== undefined);
  const entries = settings.destinations ?? [];
  return {
    ...base,
    ...(ownsCore ? parseCore(coreVars(vars, settings)) : {}),
    ...(entries.length > 0
      ? {
          destination: entries.map((e) => e.type).join("+"),
          lanes: entries.flatMap((e, i) => lanesOfEntry(e, e.type, resolveDestination(e, vars, `destinations[${i}]`))),
        }
      : {}),
  };
}

/** A product's source secret: its own when set (then for it alone), else the environment's default. */
export function sourceSecret(
  vars: Vars,
  settings: ProductSettings | null,
  which: "connector_secret" | "posthog_webhook_secret",
): { own: true; secret: string | null } | { own: false } {
  const ref = settings?.[which];
  return ref ? { own: true, secret: envValue(vars, ref.env) ?? null } : { own: false };
}
