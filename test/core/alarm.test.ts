import { describe, expect, it } from "vitest";
import { LOST_ALARM_MS, nextAlarmAt, REARM_LOST_ALARM_MS, type AlarmAction, type AlarmInput } from "../../src/session/alarm";

const NOW = 1_000_000;
const keep: AlarmAction = { kind: "keep" };
const set = (at: number): AlarmAction => ({ kind: "set", at });
const remove: AlarmAction = { kind: "delete" };

/** `planned` as the plan answers it; "unasked" fails the test if the policy consults the plan. */
type Planned = number | null | "unasked";
const plan = (p: Planned) => () => {
  if (p === "unasked") throw new Error("the plan was asked");
  return p;
};

describe("nextAlarmAt: the whole alarm policy", () => {
  it.each<[string, AlarmInput, AlarmAction]>([
    ["start, no alarm: nothing to re-arm", { phase: "start", current: null, now: NOW }, keep],
    ["start, alarm ahead: kept", { phase: "start", current: NOW + 5_000, now: NOW }, keep],
    ["start, alarm just due: trusted to fire", { phase: "start", current: NOW - LOST_ALARM_MS, now: NOW }, keep],
    ["start, alarm long past due: lost, re-armed shortly", { phase: "start", current: NOW - LOST_ALARM_MS - 1, now: NOW }, set(NOW + REARM_LOST_ALARM_MS)],
  ])("%s", (_name, input, action) => {
    expect(nextAlarmAt(input)).toEqual(action);
  });

  it.each<[string, number | null, number, Planned, AlarmAction]>([
    // name, current, dueBy, planned, action
    ["an alarm already due is kept without planning", NOW - 10, NOW, "unasked", keep],
    ["an alarm no later than the batch's due time is kept without planning (ingest hot path)", NOW + 500, NOW + 500, "unasked", keep],
    ["no alarm and nothing planned: none is set (a request never deletes)", null, NOW, null, keep],
    ["an alarm set later than dueBy, nothing planned: kept", NOW + 9_000, NOW, null, keep],
    ["no alarm: the plan's deadline is set", null, NOW, NOW + 2_000, set(NOW + 2_000)],
    ["no alarm, a step due now: set now (outside alarm() that is safe)", null, NOW, NOW, set(NOW)],
    ["a later alarm is brought forward to the plan's deadline", NOW + 9_000, NOW, NOW + 2_000, set(NOW + 2_000)],
    ["an earlier alarm than the plan's deadline is kept", NOW + 1_000, NOW, NOW + 2_000, keep],
    ["an alarm at exactly the plan's deadline is kept", NOW + 2_000, NOW, NOW + 2_000, keep],
  ])("request: %s", (_name, current, dueBy, planned, action) => {
    expect(nextAlarmAt({ phase: "request", current, now: NOW, dueBy, planned: plan(planned) })).toEqual(action);
  });

  it.each<[string, number | null, Planned, AlarmAction]>([
    // name, current, planned, action
    ["nothing planned, no alarm set meanwhile: deleted", null, null, remove],
    ["nothing planned, a request set one meanwhile: kept", NOW + 3_000, null, keep],
    ["a step due now: never now from inside alarm(), now + 1", null, NOW, set(NOW + 1)],
    ["a step overdue: now + 1", null, NOW - 5_000, set(NOW + 1)],
    ["a future deadline: set", null, NOW + 2_000, set(NOW + 2_000)],
    ["an earlier alarm (a kick's backstop) is kept: it fires early, finds nothing due and re-arms", NOW + 1_000, NOW + 2_000, keep],
    ["a later alarm (a kicked run whose step failed) is brought forward to the retry", NOW + 60_000, NOW + 2_000, set(NOW + 2_000)],
    ["a kicked run that yielded with steps due: never now, now + 1", NOW + 60_000, NOW, set(NOW + 1)],
  ])("alarm: %s", (_name, current, planned, action) => {
    expect(nextAlarmAt({ phase: "alarm", current, now: NOW, planned: plan(planned) })).toEqual(action);
  });

  it.each<[string, number | null, AlarmAction]>([
    // name, current, action
    ["no alarm: the backstop is set", null, set(NOW + 60_000)],
    ["an alarm due before the backstop is kept (a stream sets one alarm per backstop period)", NOW + 30_000, keep],
    ["an alarm after the backstop (the idle deadline) is brought forward to it", NOW + 1_800_000, set(NOW + 60_000)],
  ])("kick: %s", (_name, current, action) => {
    expect(nextAlarmAt({ phase: "kick", current, now: NOW, backstopAt: NOW + 60_000 })).toEqual(action);
  });
});
