/**
 * Idle costs nothing: a session that stops receiving events wakes at most for its idle close and
 * its retention, never in a loop. Idle sessions, one batch each, alarms counted over a
 * simulated week with the actor's own alarm policy (100 here, 1,000 from the bench); with a destination that always refuses (a
 * parked step probed again and again) the wake-ups must stay capped.
 *
 * `IDLE_WEEK_OUT=file.json` writes the figures for the benchmark (bench/scenarios/idle.mjs, which
 * runs 1,000 sessions); `IDLE_WEEK_SESSIONS` sets how many run (default 100 here: every idle
 * session follows the same schedule, and a parked one costs a drain per probe).
 */
import fs from "node:fs";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { runAlarms } from "./support/alarmClock";
import { createSim } from "./support/simulation";

const WEEK_MS = 7 * 24 * 3_600_000;
const SESSIONS = Number(process.env.IDLE_WEEK_SESSIONS ?? 100);
const figures: Record<string, unknown> = {};

afterEach(() => vi.restoreAllMocks());

/** Alarms per idle session over a week: one batch of 5 (below K), then nothing. */
async function idleWeek(parked: boolean) {
  const perSession: number[] = [];
  let expired = 0;
  for (let i = 0; i < SESSIONS; i++) {
    const sim = createSim(i + 1, { retentionMs: WEEK_MS });
    if (parked) sim.destination.fault = () => "failed";
    sim.ingest(5);
    const run = await runAlarms(sim, sim.now + WEEK_MS);
    perSession.push(run.alarms);
    if (run.expired) expired += 1;
    vi.restoreAllMocks();
  }
  const out = { sessions: SESSIONS, maxAlarms: Math.max(...perSession), meanAlarms: perSession.reduce((a, b) => a + b, 0) / SESSIONS, expired };
  figures[parked ? "parked" : "idle"] = out;
  return out;
}

describe("an idle week", () => {
  afterAll(() => {
    if (process.env.IDLE_WEEK_OUT) fs.writeFileSync(process.env.IDLE_WEEK_OUT, JSON.stringify({ weekMs: WEEK_MS, ...figures }, null, 2));
  });

  it("wakes an idle session at most 3 times: its batch, its idle close, its retention", { timeout: 300_000 }, async () => {
    const week = await idleWeek(false);
    expect(week.maxAlarms).toBeLessThanOrEqual(3);
    expect(week.expired).toBe(SESSIONS);
  });

  it("caps the probes of a parked step: at most 15 wake-ups in the week", { timeout: 300_000 }, async () => {
    const week = await idleWeek(true);
    expect(week.maxAlarms).toBeLessThanOrEqual(15);
  });
});
