/**
 * The actor's alarm loop on a fake clock, for counting wake-ups: after a request the alarm is set
 * as `SessionActor.rearm` sets it, and each firing runs `drain` then re-arms as `alarm()` does
 * (both through the real `nextAlarmAt`), until the alarm lies past `untilMs`, none is set, or
 * the session expires (the actor then erases it and sets none).
 */
import { nextAlarmAt, type AlarmAction } from "../../../src/session/alarm";
import type { Sim } from "./simulation";

export interface AlarmRun {
  /** Alarm invocations (each a billed Durable Object request). */
  alarms: number;
  /** When each fired, ms after the start. */
  firedAt: number[];
  expired: boolean;
}

/** Runs `sim`'s alarms from now until `untilMs` (absolute, on the sim's clock), after a request set `dueBy`. */
export async function runAlarms(sim: Sim, untilMs: number, dueBy = sim.now): Promise<AlarmRun> {
  const start = sim.now;
  let alarmAt: number | null = null;
  const apply = (action: AlarmAction) => {
    if (action.kind === "set") alarmAt = action.at;
    else if (action.kind === "delete") alarmAt = null;
  };
  apply(nextAlarmAt({ phase: "request", current: null, now: sim.now, dueBy, planned: () => sim.core.nextAlarm(sim.now) }));
  const run: AlarmRun = { alarms: 0, firedAt: [], expired: false };
  while (alarmAt !== null && alarmAt <= untilMs) {
    sim.advance(Math.max(0, alarmAt - sim.now));
    alarmAt = null;
    run.alarms += 1;
    run.firedAt.push(sim.now - start);
    const result = await sim.alarm();
    if (result.kind === "expired") {
      run.expired = true;
      return run;
    }
    const now = sim.now;
    apply(nextAlarmAt({ phase: "alarm", current: alarmAt, now, planned: () => sim.core.nextAlarm(now) }));
  }
  return run;
}
