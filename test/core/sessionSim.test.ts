import { describe, expect, it } from "vitest";
import { MAX_WINDOWS_PER_CALL } from "../../src/session/steps/summarise";
import { createSim, lostActions, orderViolations, type DestFault, type LlmFault, type Sim } from "./support/simulation";

const DEST_FAULTS: DestFault[] = ["retry", "landed-unknown", "lost-unknown", "failed"];
const LLM_FAULTS: LlmFault[] = ["error", "empty", "error-text", "failed"];

function check(sim: Sim, label: string): void {
  const problems = [...sim.destination.violations, ...lostActions(sim).map((a) => `lost ${a}`), ...orderViolations(sim)];
  if (problems.length) throw new Error(`${label}: ${problems.slice(0, 5).join("; ")}`);
}

/** Drives one random session: faults on, random ops; then faults off and run to quiescence. */
export async function runSeedForDebug(seed: number, options: Parameters<typeof createSim>[1] = {}) {
  return runSeed(seed, options);
}

async function runSeed(seed: number, options: Parameters<typeof createSim>[1] = {}) {
  const sim = createSim(seed, options);
  const r = sim.random;
  const destFaultRate = r() * 0.5;
  const llmFaultRate = r() * 0.5;
  sim.destination.fault = () => (r() < destFaultRate ? DEST_FAULTS[Math.floor(r() * DEST_FAULTS.length)]! : "ok");
  sim.llm.fault = () => (r() < llmFaultRate ? LLM_FAULTS[Math.floor(r() * LLM_FAULTS.length)]! : "ok");
  let lastKey: string | undefined;
  const ops = 20 + Math.floor(r() * 60);
  for (let i = 0; i < ops; i++) {
    const op = r();
    if (op < 0.45) {
      lastKey = `k-${seed}-${i}`;
      sim.ingest(1 + Math.floor(r() * 6), lastKey);
    } else if (op < 0.5 && lastKey) {
      expect(sim.ingest(3, lastKey)).toBe(true); // a retried POST changes nothing
    } else if (op < 0.8) {
      await sim.alarm();
    } else if (op < 0.9) {
      sim.jumpToNextAlarm();
      await sim.alarm();
    } else if (op < 0.93) {
      sim.core.flush(sim.now);
    } else if (op < 0.96 && options.needsLink) {
      sim.core.link("p", "s", `conv-${Math.floor(r() * 2)}`, sim.now);
    } else {
      sim.advance(Math.floor(r() * 5_000));
    }
    check(sim, `seed ${seed} op ${i}`);
  }
  // Heal, link if needed, flush everything and run until nothing is left to do.
  sim.destination.fault = () => "ok";
  sim.llm.fault = () => "ok";
  if (options.needsLink) sim.core.link("p", "s", "conv-final", sim.now);
  sim.core.flush(sim.now);
  for (let i = 0; i < 200 && sim.core.nextStep(sim.now + 3_600_000) !== null; i++) {
    sim.jumpToNextAlarm();
    await sim.alarm();
    check(sim, `seed ${seed} settle ${i}`);
  }
  return sim;
}

describe("randomized sessions against the invariants (real core on node:sqlite)", () => {
  const chunks = [0, 1, 2, 3].flatMap((c) => (["rolling", "independent"] as const).map((mode) => [mode, c] as const));
  it.each(chunks)("%s mode, seeds chunk %i of 50: faults lose nothing, redact only covered notes, post once and in order", { timeout: 60_000 }, async (mode, chunk) => {
    for (let seed = chunk * 50 + 1; seed <= chunk * 50 + 50; seed++) {
      const sim = await runSeed(seed, { mode, threshold: 1 + (seed % 12) });
      const live = sim.destination.live();
      // Quiescent: everything accepted is covered by live summaries, and no raw note is left.
      const covered = new Set(live.filter((n) => n.kind === "summary").flatMap((n) => n.covers));
      expect(sim.accepted.filter((a) => !covered.has(a)), `seed ${seed}`).toEqual([]);
      expect(live.filter((n) => n.kind === "raw"), `seed ${seed}`).toEqual([]);
      if (mode === "rolling" && sim.accepted.length) expect(live.length, `seed ${seed}`).toBe(1);
      // Bounded: rows kept do not grow with the session.
      expect(sim.store.storageFigures().rows, `seed ${seed}`).toBeLessThanOrEqual(mode === "rolling" ? 4 : 4 + live.length); // + the lane row
    }
  });

  it("under a debounce every accepted action reaches the destination raw before its summary covers it", { timeout: 60_000 }, async () => {
    for (const mode of ["rolling", "independent"] as const) {
      for (let seed = 1; seed <= 50; seed++) {
        const sim = await runSeed(seed, { mode, threshold: 1 + (seed % 12), debounceMs: 200 });
        const sentRaw = new Set(sim.destination.all().filter((n) => n.kind === "raw").flatMap((n) => n.actions));
        expect(sim.accepted.filter((a) => !sentRaw.has(a)), `${mode} seed ${seed}`).toEqual([]);
      }
    }
  });

  it("sessions that need a link hold raw actions until linked, then catch up without losing any", { timeout: 60_000 }, async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const sim = await runSeed(seed, { needsLink: true, threshold: 5 });
      const covered = new Set(sim.destination.live().flatMap((n) => n.covers));
      expect(sim.accepted.filter((a) => !covered.has(a)), `seed ${seed}`).toEqual([]);
    }
  });

  it("catches up a backlog in few LLM calls (each within the prompt cap), one call per window when it keeps up", { timeout: 60_000 }, async () => {
    const behind = createSim(11, { threshold: 10 });
    for (let i = 0; i < 100; i++) behind.ingest(10); // 100 windows close before the lane runs once
    for (let i = 0; i < 400 && behind.core.nextStep(behind.now) !== null; i++) await behind.alarm();
    const calls = behind.store.session()!.llm_calls;
    expect(calls).toBeLessThanOrEqual(Math.ceil(100 / MAX_WINDOWS_PER_CALL) + 1);
    expect(lostActions(behind)).toEqual([]);
    const covered = new Set(behind.destination.live().filter((n) => n.kind === "summary").flatMap((n) => n.covers));
    expect(behind.accepted.filter((a) => !covered.has(a))).toEqual([]);

    const keepingUp = createSim(12, { threshold: 10 });
    for (let i = 0; i < 30; i++) {
      keepingUp.ingest(10);
      await keepingUp.alarm();
    }
    expect(keepingUp.store.session()!.llm_calls).toBe(30);
  });

  it("under a steady stream (a new batch before every other step) notes to redact do not pile up", { timeout: 60_000 }, async () => {
    const sim = createSim(11, { threshold: 10 });
    let maxRows = 0;
    for (let i = 0; i < 600; i++) {
      sim.ingest(5);
      // Two steps per batch: a delivery is due at every turn, as under a stream with no debounce.
      await sim.core.drain(2);
      maxRows = Math.max(maxRows, sim.store.storageFigures().rows);
    }
    expect(maxRows).toBeLessThanOrEqual(3 * 10);
    while ((await sim.alarm()).kind === "yield");
    expect(lostActions(sim)).toEqual([]);
  });

  it("a long session keeps its rows and prompts bounded", { timeout: 60_000 }, async () => {
    const sim = createSim(7, { threshold: 10 });
    let maxRows = 0;
    for (let i = 0; i < 2_000; i++) {
      sim.ingest(1 + (i % 3));
      await sim.alarm();
      maxRows = Math.max(maxRows, sim.store.storageFigures().rows);
    }
    expect(maxRows).toBeLessThanOrEqual(3 * 10);
    expect(sim.destination.live().filter((n) => n.kind === "summary")).toHaveLength(1);
  });
});
