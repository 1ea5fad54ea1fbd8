/**
 * Declares one shard of the campaign's seeds as one test per seed (several shard files let vitest
 * spread the seeds over the machine's cores). Each seed's figures go into the test's meta, which
 * `npm run campaign` reads from vitest's JSON report to print the table.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { runSeed, type SeedResult } from "./driver";

declare module "vitest" {
  interface TaskMeta {
    campaign?: Omit<SeedResult, "trace">;
  }
}

export const SHARDS = 2;

function setting(name: string, fallback: number): number {
  const value = Number((env as unknown as Record<string, string | undefined>)[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
}

/** The seeds of shard `shard`: CAMPAIGN_FIRST_SEED, ... (CAMPAIGN_SEEDS of them), dealt round-robin. */
export function seedsOf(shard: number): number[] {
  const first = setting("CAMPAIGN_FIRST_SEED", 1);
  const count = setting("CAMPAIGN_SEEDS", 200);
  return Array.from({ length: count }, (_, i) => first + i).filter((_, i) => i % SHARDS === shard);
}

export function describeShard(shard: number): void {
  const seeds = seedsOf(shard);
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
}
