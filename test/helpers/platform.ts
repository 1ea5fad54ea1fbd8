/**
 * What the platform does to a session's actor, for tests that cut a run short: abort it at
 * whatever await it is on, and retry the alarm run that was cut short (alarms are at least once).
 */
import { runInDurableObject } from "cloudflare:test";
import { stubFor } from "./api";

/** Aborts the actor wherever it is (an eviction at an arbitrary await). Stubs to it are broken after. */
export async function crash(productId: string, sessionId: string): Promise<void> {
  await runInDurableObject(stubFor(productId, sessionId), (_instance, state) => state.abort("test crash")).catch(() => undefined);
}

/**
 * Re-arms the alarm of a run that a crash cut short, as the platform retries it. `runDurableObjectAlarm`
 * consumes the alarm before running it, and a run cut short never reaches its own re-arming.
 */
export async function retryAlarm(productId: string, sessionId: string): Promise<void> {
  await runInDurableObject(stubFor(productId, sessionId), async (_instance, state) => {
    if ((await state.storage.getAlarm()) === null) await state.storage.setAlarm(Date.now());
  });
}
