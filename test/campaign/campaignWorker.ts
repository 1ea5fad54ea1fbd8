/**
 * The Worker as the campaign runs it: the real app and the real `SessionActor`, except that an
 * actor's one alarm is kept in its own storage (`ctx.storage.kv`, written in the same implicit
 * transaction a real `setAlarm` would be) instead of being scheduled with the runtime.
 *
 * Why: in the test pool, runtime alarms fire in bursts whenever the test runner is briefly idle,
 * and a naturally fired alarm's timers and I/O can stall while the runner keeps the isolate busy
 * (measured: a DO-side `setTimeout(0)` inside a natural alarm did not fire for over a second while
 * the test kept sending requests). The driver fires alarms itself instead, as the platform would:
 * the alarm is consumed when it fires, a run cut short by a crash is retried, and an actor whose
 * work is unfinished with no alarm set is a liveness failure.
 *
 * A session id may also carry its own threshold and summary mode (`….k3.independent`), so one
 * campaign covers several settings without a project per setting.
 */
import { SessionActor as RealSessionActor } from "../../src/sessionActor";

export { default } from "../../src/worker";

/** Where an actor's alarm time is kept (read and cleared by the driver when it fires the alarm). */
export const VIRTUAL_ALARM_KEY = "campaign:alarm";

let installed = false;

/**
 * Replaces the alarm methods of the isolate's storage class (the campaign project's isolates
 * only). The runtime checks the class of `ctx`, so the storage object itself cannot be wrapped.
 */
function installVirtualAlarms(storage: DurableObjectStorage): void {
  if (installed) return;
  installed = true;
  const proto = Object.getPrototypeOf(storage) as DurableObjectStorage;
  Object.defineProperties(proto, {
    getAlarm: {
      value: async function getAlarm(this: DurableObjectStorage) {
        return this.kv.get<number>(VIRTUAL_ALARM_KEY) ?? null;
      },
    },
    setAlarm: {
      value: async function setAlarm(this: DurableObjectStorage, at: number | Date) {
        this.kv.put(VIRTUAL_ALARM_KEY, typeof at === "number" ? at : at.getTime());
      },
    },
    deleteAlarm: {
      value: async function deleteAlarm(this: DurableObjectStorage) {
        this.kv.delete(VIRTUAL_ALARM_KEY);
      },
    },
  });
}

const SETTINGS_SUFFIX = /\.k(\d+)\.(rolling|independent)$/;

/** The session id suffix that selects threshold K and the summary mode for that session. */
export function settingsSuffix(threshold: number, mode: "rolling" | "independent"): string {
  return `.k${threshold}.${mode}`;
}

function sessionEnv(name: string | undefined, env: Env): Env {
  const m = SETTINGS_SUFFIX.exec(name ?? "");
  return m ? { ...env, SUMMARY_THRESHOLD: m[1]!, SUMMARY_MODE: m[2]! } : env;
}

/** The real actor; its alarm is fired by the campaign driver. */
export class SessionActor extends RealSessionActor {
  constructor(ctx: DurableObjectState, env: Env) {
    installVirtualAlarms(ctx.storage);
    super(ctx, sessionEnv(ctx.id.name, env));
  }
}
