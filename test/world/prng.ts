/**
 * Deterministic randomness for the fake world and its drivers: one seeded stream for a driver's choices,
 * and a keyed draw for fault decisions so that "what happens to request X the nth time" depends
 * on the seed and X only, not on how natural alarms interleaved with the driver.
 */

/** Mulberry32: small, fast, good enough to pick operations and faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string, 32 bits. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uniform draw in [0, 1) keyed by the seed and any parts (request identity, attempt, purpose). */
export function keyedDraw(seed: number, ...parts: (string | number)[]): number {
  return mulberry32(hashString(`${seed}|${parts.join("|")}`))();
}

/** The seeded stream with the helpers the driver needs. */
export class Rng {
  readonly seed: number;
  private readonly next: () => number;

  constructor(seed: number) {
    this.seed = seed;
    this.next = mulberry32(hashString(`driver|${seed}`));
  }

  float(): number {
    return this.next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  /** Picks by weight: `[["a", 3], ["b", 1]]` gives "a" three times as often. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [item, w] of entries) {
      r -= w;
      if (r < 0) return item;
    }
    return entries[entries.length - 1]![0];
  }
}
