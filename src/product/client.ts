/**
 * @module
 * How the Worker and the session actors reach product actors, and what an isolate remembers of
 * them: verified keys (and unknown or revoked answers) and product settings, each for at most
 * `KEY_CACHE_TTL_MS` / `SETTINGS_CACHE_TTL_MS` (60 s). In the steady state a request reads both
 * from memory: no round trip on ingest; a revocation or a settings change applies within the TTL.
 */
import { loadConfig, need } from "../config";
import type { ProductSettings } from "../config/product";
import type { StoredKey } from "./productStore";
import { done, retry, type Result } from "../result";
import type { MemoryEntry } from "./memory/types";
import type { IndexEntry } from "./sessionIndex";
import { TtlCache } from "./ttlCache";

/** The registry of keys: a product actor whose name can never be a product id. */
export const REGISTRY = "*";

export const productStub = (env: Env, productId: string) => env.PRODUCT.getByName(productId);
export const registryStub = (env: Env) => env.PRODUCT.getByName(REGISTRY);

const keys = new TtlCache<StoredKey | null>();
const settings = new TtlCache<ProductSettings | null>();
const touched = new Map<string, number>();

/** How often a key's `last_used_at` is written, at most. */
const TOUCH_INTERVAL_MS = 60_000;

/** The stored key (hash included) for an id, or null when unknown; from memory within the TTL. */
export function lookupKey(env: Env, id: string, now = Date.now()): Promise<StoredKey | null> {
  return keys.get(id, need(loadConfig(env).access.caching).keyCacheTtlMs, now, () => registryStub(env).key(id));
}

/** Drops this isolate's memory of a key (after revoking it here). */
export const forgetKey = (id: string): void => keys.forget(id);

/**
 * `last_used_at`, written at most once a minute per key and isolate, off the request path: the
 * returned promise goes to `waitUntil`, or null when no write is due.
 */
export function touchKey(env: Env, id: string, now = Date.now()): Promise<void> | null {
  const last = touched.get(id);
  if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return null;
  touched.set(id, now);
  if (touched.size > 10_000) touched.delete(touched.keys().next().value!);
  return registryStub(env).touchKey(id, now);
}

/** A product's settings (null: none, the environment's apply); from memory within the TTL. */
export function productSettings(env: Env, productId: string, now = Date.now()): Promise<ProductSettings | null> {
  const ttl = need(loadConfig(env).access.caching).settingsCacheTtlMs;
  return settings.get(productId, ttl, now, async () => (await productStub(env, productId).settings())?.settings ?? null);
}

/** Drops this isolate's memory of a product's settings (after changing them here). */
export const forgetSettings = (productId: string): void => settings.forget(productId);

/** The index step's one I/O: the session's entry written to its product's index, as one result. */
export async function writeIndexEntry(env: Env, productId: string, entry: IndexEntry): Promise<Result> {
  try {
    await productStub(env, productId).indexSession(entry);
    return done();
  } catch (err) {
    return retry(`the product index could not be written (${err instanceof Error ? err.name : "error"})`);
  }
}

/** The memory step's one I/O: a summary sent to its product's memory, as one result (the product's own, e.g. an embedder's retry). */
export async function writeMemoryEntry(env: Env, productId: string, entry: MemoryEntry): Promise<Result> {
  try {
    return await productStub(env, productId).remember(entry);
  } catch (err) {
    return retry(`the product's memory could not be written (${err instanceof Error ? err.name : "error"})`);
  }
}

/**
 * Before an expired session erases itself: leave the index. If that fails, the entry still goes:
 * the index drops entries whose `expires_at` has passed, whether or not they were removed.
 */
export async function leaveIndexQuietly(
  env: Env,
  productId: string | null,
  s: { session_id: string; epoch: string } | null,
  onError: (errorName: string) => void,
): Promise<void> {
  if (!s || productId === null) return;
  try {
    await productStub(env, productId).unindexSession(s.session_id, s.epoch);
  } catch (err) {
    onError(err instanceof Error ? err.name : "error");
  }
}
