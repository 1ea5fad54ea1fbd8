/**
 * The fake outside world (test/world) behind `fetch` in workerd: `vi.spyOn(globalThis, "fetch")`
 * reaches the actors, which run in the test's isolate. Deliveries are verified against the
 * project's own WEBHOOK_SECRET binding.
 */
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { createWorld, type World, type WorldOptions } from "../world";
import { scriptedFaults } from "../world/faults";

/** A world whose faults follow a script (`faults.failDest(…)`, `faults.failLlm(…)`), installed as `fetch`. */
export function installWorld(options: WorldOptions = {}) {
  const faults = scriptedFaults();
  const world: World = createWorld({ secret: env.WEBHOOK_SECRET, faults, ...options });
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(world.fetch);
  return { world, faults, restore: () => spy.mockRestore() };
}
