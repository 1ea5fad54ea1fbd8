/**
 * @module
 * The session's one alarm as a pure decision: from where the actor stands, the alarm it has set,
 * the time and (asked only when it matters) the plan's next deadline, what to do with the alarm.
 */

/** An alarm this far past due was lost (a restart can drop one): it is re-armed, never trusted. */
export const LOST_ALARM_MS = 60_000;
/** How soon a lost alarm is re-armed. */
export const REARM_LOST_ALARM_MS = 1_000;

export type AlarmAction = { kind: "keep" } | { kind: "set"; at: number } | { kind: "delete" };

/** Where the actor stands; `current` is the alarm set now (inside `alarm()`, one a request set meanwhile). */
export type AlarmInput =
  | { phase: "start"; current: number | null; now: number }
  | {
      phase: "request";
      current: number | null;
      now: number;
      /** The latest time the request's write needs the alarm by (ingest: its batch's due time; otherwise now). */
      dueBy: number;
      /** The plan's next deadline: now or earlier for a due step, null at rest. */
      planned: () => number | null;
    }
  | { phase: "alarm"; current: number | null; now: number; planned: () => number | null }
  /** A request made a step due now and starts the lane itself once it has answered; the alarm is its backstop. */
  | { phase: "kick"; current: number | null; now: number; backstopAt: number };

const KEEP: AlarmAction = { kind: "keep" };
const set = (at: number): AlarmAction => ({ kind: "set", at });

/**
 * Cases:
 * - start (constructor): an alarm more than LOST_ALARM_MS past due is set again REARM_LOST_ALARM_MS
 *   from now; otherwise the alarm is kept, and the plan is not asked;
 * - request: an alarm set no later than `dueBy` is kept without asking the plan (the ingest hot
 *   path); otherwise the plan's deadline is set, unless there is none or the alarm set is earlier;
 * - kick: an alarm set no later than `backstopAt` is kept, otherwise it is set to `backstopAt`, so
 *   work the request started in the background resumes by then if that run never finishes
 *   (eviction); during a stream this keeps one alarm per backstop period, not one per batch;
 * - alarm (end of a run of the lane): after the alarm fired (none is set) the plan is
 *   authoritative: its deadline is set, never at or before now (a same-instant alarm set from
 *   inside `alarm()` can be dropped: now + 1), and with no deadline the alarm is deleted. While an
 *   alarm is set (a kicked run, or a request set one meanwhile) it is kept unless the plan needs
 *   an earlier one; one that fires early only finds nothing due and re-arms.
 */
export function nextAlarmAt(input: AlarmInput): AlarmAction {
  const { current, now } = input;
  switch (input.phase) {
    case "start":
      return current !== null && current < now - LOST_ALARM_MS ? set(now + REARM_LOST_ALARM_MS) : KEEP;
    case "request": {
      if (current !== null && current <= input.dueBy) return KEEP;
      const planned = input.planned();
      return planned === null || (current !== null && current <= planned) ? KEEP : set(planned);
    }
    case "kick":
      return current !== null && current <= input.backstopAt ? KEEP : set(input.backstopAt);
    case "alarm": {
      const planned = input.planned();
      if (planned === null) return current === null ? { kind: "delete" } : KEEP;
      return current !== null && current <= planned ? KEEP : set(Math.max(planned, now + 1));
    }
  }
}
