/**
 * @module
 * What every config section is made of: the variables it reads, the error a bad one gives, and
 * the parsers (trimmed text, bounded integers, one of a list, a JSON object of strings). Pure.
 */

/** Every variable `wrangler types` declares on `Env` (bindings aside), each one optional. */
export type Vars = Readonly<Partial<Omit<Env, "SESSION" | "PRODUCT" | "STREAM">>>;
export type SettingName = keyof Vars & string;

/** A setting that is set but unusable. The message names it and says what is wrong, never a secret's value. */
export class ConfigError extends Error {
  override name = "ConfigError";

  constructor(
    readonly setting: SettingName,
    message: string,
  ) {
    super(message);
  }
}

/** One section of the config: its value, or the error every use of it reports. */
export type Section<T> = T | ConfigError;

/** Runs a section's parser, keeping its `ConfigError` as the section's value. */
export function section<T>(parse: () => T): Section<T> {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

/**
 * The section's value, or its `ConfigError` thrown: a route answers 503 `misconfigured` with it,
 * a step parks with it.
 * @example const keys = need(loadConfig(c.env).access.publishableKeys)
 */
export function need<T>(value: Section<T>): T {
  if (value instanceof ConfigError) throw value;
  return value;
}

/** The trimmed value; blank counts as unset. */
export function text(vars: Vars, name: SettingName): string | undefined {
  const v: unknown = vars[name];
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

export function int(vars: Vars, name: SettingName, fallback: number, min: number, max: number): number {
  const v = text(vars, name);
  if (v === undefined) return fallback;
  const n = Number(v.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

export function oneOf<T extends string>(vars: Vars, name: SettingName, allowed: readonly T[], fallback: T): T {
  const v = text(vars, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(name, `${name} must be one of ${allowed.join(", ")}, got "${v}"`);
  }
  return v as T;
}

/**
 * A JSON object of strings as a map of trimmed values (own keys only, so "__proto__" is just a
 * key); undefined when unset. `message` says what was expected, since the value may be secret.
 */
export function jsonStrings(vars: Vars, name: SettingName, message: string): Map<string, string> | undefined {
  const v = text(vars, name);
  if (v === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new ConfigError(name, message);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ConfigError(name, message);
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== "string") throw new ConfigError(name, message);
    map.set(key, value.trim());
  }
  return map;
}
