import { describe, expect, it } from "vitest";
import { runSeed } from "./driver";
import { MUTATIONS } from "./mutations";

/** Seeds tried per broken build before giving up; each finds its bug within a few. */
const MAX_SEEDS = 12;

describe("the campaign catches a deliberately broken build", () => {
  for (const mutation of MUTATIONS) {
    it(`${mutation.name}: reports ${mutation.expect}`, async () => {
      const found: string[] = [];
      const { outbound, restore } = mutation.install();
      try {
        for (let seed = 1; seed <= MAX_SEEDS && found.length === 0; seed++) {
          const result = await runSeed(10_000 + seed, outbound);
          found.push(...result.violations.map((v) => v.invariant));
        }
      } finally {
        restore();
      }
      expect(found.length, "the broken build went unnoticed").toBeGreaterThan(0);
      expect(found).toContain(mutation.expect);
    });
  }
});
