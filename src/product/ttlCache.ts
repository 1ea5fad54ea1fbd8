/**
 * @module
 * An isolate's memory of answers it fetched, each trusted for at most `ttlMs`: concurrent misses
 * share one fetch, a failed fetch is not remembered, and the oldest entries go past `maxEntries`
 * (a caller cannot grow it without bound by asking for ids that do not exist). Pure apart from
 * the fetch it is given.
 */

interface Entry<V> {
  value: Promise<V>;
  fetchedAt: number;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly maxEntries = 10_000) {}

  /**
   * The remembered answer for `key` if younger than `ttlMs`, else `fetch()`'s (remembered on success).
   * @example keys.get(id, 60_000, Date.now(), () => registry.key(id))
   */
  get(key: string, ttlMs: number, now: number, fetch: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && now - hit.fetchedAt < ttlMs) return hit.value;
    const value = fetch();
    this.entries.delete(key);
    this.entries.set(key, { value, fetchedAt: now });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    // Maps keep insertion order: the first key is the oldest fetch.
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  /** Forgets `key`, so the next `get` fetches (this isolate's own writes apply at once). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
