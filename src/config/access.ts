/**
 * @module
 * Who may call in: the API token, the sources' secrets (Autoplay connector, PostHog), the
 * browser link route's publishable keys and allowed origins, and how long an isolate trusts the
 * scoped keys and product settings it has read. A credential that is not set makes
 * its route refuse (never fall open); one that is set but malformed is that setting's `ConfigError`.
 */
import { ConfigError, int, jsonStrings, section, text, type Section, type Vars } from "./settings";

export interface PosthogSecrets {
  /** `POSTHOG_WEBHOOK_SECRETS`: product_id → secret; a blank entry means none for that product. */
  perProduct: ReadonlyMap<string, string> | null;
  /** `POSTHOG_WEBHOOK_SECRET`, for every product the map does not name. */
  shared: string | null;
}

export interface AccessConfig {
  /** `API_TOKEN`, the bearer token for `/v1/*`; null: those routes refuse every request. */
  apiToken: string | null;
  /** `CONNECTOR_SECRET`, the key of `X-Connector-Signature`; null: signatures are refused. */
  connectorSecret: string | null;
  /** Look a product's secret up with {@link posthogSecretFor}. */
  posthog: Section<PosthogSecrets>;
  /** `PUBLISHABLE_KEYS` (product_id → key); null: `POST /sessions/link` refuses every request. */
  publishableKeys: Section<ReadonlyMap<string, string> | null>;
  /** `LINK_ALLOWED_ORIGINS` (comma-separated) as exact origins, trailing slashes dropped. */
  allowedOrigins: readonly string[];
  /** `KEY_CACHE_TTL_MS`, `SETTINGS_CACHE_TTL_MS`. */
  caching: Section<ProductCaching>;
}

/** How long an isolate trusts what it read from a product: at most 60 s, so a revocation or a settings change applies within a minute. */
export interface ProductCaching {
  /** A verified, unknown or revoked key (default 60 s). */
  keyCacheTtlMs: number;
  /** A product's settings (default 60 s). */
  settingsCacheTtlMs: number;
}

export function parseAccess(vars: Vars): AccessConfig {
  return {
    apiToken: text(vars, "API_TOKEN") ?? null,
    connectorSecret: text(vars, "CONNECTOR_SECRET") ?? null,
    posthog: section(() => readPosthogSecrets(vars)),
    publishableKeys: section(() => readPublishableKeys(vars)),
    allowedOrigins: (text(vars, "LINK_ALLOWED_ORIGINS") ?? "")
      .split(",")
      .map((o) => o.trim().replace(/\/+$/, ""))
      .filter((o) => o !== ""),
    caching: section(() => ({
      keyCacheTtlMs: int(vars, "KEY_CACHE_TTL_MS", 60_000, 0, 60_000),
      settingsCacheTtlMs: int(vars, "SETTINGS_CACHE_TTL_MS", 60_000, 0, 60_000),
    })),
  };
}

/**
 * A `POSTHOG_WEBHOOK_SECRETS` that is not a JSON object of strings is an error, never a silent
 * fallback to the shared secret the operator meant to replace.
 */
export function readPosthogSecrets(vars: Vars): PosthogSecrets {
  const message = "POSTHOG_WEBHOOK_SECRETS is not a JSON object of product ids to secrets";
  return { perProduct: jsonStrings(vars, "POSTHOG_WEBHOOK_SECRETS", message) ?? null, shared: text(vars, "POSTHOG_WEBHOOK_SECRET") ?? null };
}

/** Outcome of looking up a product's PostHog secret: the secret, or none configured. */
export type SecretLookup = { ok: true; secret: string } | { ok: false; reason: "not_configured" };

/**
 * The PostHog webhook secret for a product: its entry in `POSTHOG_WEBHOOK_SECRETS` first (a blank
 * entry means none), then `POSTHOG_WEBHOOK_SECRET` for every product.
 * @example posthogSecretFor(need(loadConfig(env).access.posthog), "prod_abc")
 */
export function posthogSecretFor(secrets: PosthogSecrets, productId: string): SecretLookup {
  const own = secrets.perProduct?.get(productId);
  const secret = own ?? secrets.shared;
  return secret ? { ok: true, secret } : { ok: false, reason: "not_configured" };
}

function readPublishableKeys(vars: Vars): ReadonlyMap<string, string> | null {
  const message = 'PUBLISHABLE_KEYS must be a JSON object of product_id to key, e.g. {"prod_abc":"pk_..."}';
  const keys = jsonStrings(vars, "PUBLISHABLE_KEYS", message);
  if (keys && [...keys.values()].includes("")) throw new ConfigError("PUBLISHABLE_KEYS", message);
  return keys ?? null;
}
