/**
 * This project's share of the campaign's seeds, one test per seed. Each campaign project has its
 * own settings (K and the summary mode, see vitest.config.ts) and takes the seeds whose number
 * falls to its shard, so a seed always runs with the same settings and the projects run side by
 * side. Each seed's figures go into the test's meta, which `npm run campaign` reads from vitest's
 * JSON report to print the table.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runSeed, type SeedResult } from "./driver";

declare module "vitest" {
  interface TaskMeta {
    campaign?: Omit<SeedResult, "trace">;
  }
}

function setting(name: string, fallback: number): number {
  const value = Number((env as unknown as Record<string, string | undefined>)[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
}

/** CAMPAIGN_FIRST_SEED, … (CAMPAIGN_SEEDS of them) whose number falls to this project's shard. */
function seedsOfThisShard(): number[] {
  const first = setting("CAMPAIGN_FIRST_SEED", 1);
  const count = setting("CAMPAIGN_SEEDS", 20);
  const shards = setting("CAMPAIGN_SHARDS", 1);
  const shard = setting("CAMPAIGN_SHARD", 0);
  return Array.from({ length: count }, (_, i) => first + i).filter((seed) => seed % shards === shard);
}

describe(`fault campaign (${env.SUMMARY_MODE}, K=${env.SUMMARY_THRESHOLD})`, () => {
  const seeds = seedsOfThisShard();
  // A replay of one seed leaves the other shard empty, which vitest would report as a failure.
  if (seeds.length === 0) it.skip("no seed falls to this shard", () => {});
  for (const seed of seeds) {
    it(`seed ${seed} keeps every invariant under faults`, async ({ task }) => {
      const { trace, ...result } = await runSeed(seed);
      task.meta.campaign = result;
      const report = result.violations.map((v) => `[${v.invariant}] ${v.actor}: ${v.message}`).join("\n");
      expect(result.violations, `${report}\nlast operations:\n${trace.join("\n")}`).toEqual([]);
    });
  }
});
