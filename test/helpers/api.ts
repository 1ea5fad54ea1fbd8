/**
 * Helpers for workerd tests: call the Worker as a client would, drive a session's alarm until it
 * has nothing due, and peek at its storage.
 */
import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { SlimAction } from "../../src/session/model";

export const TOKEN = "test-api-token";
export const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

let counter = 0;
/** A session id no other test uses (storage is shared by the tests of one file). */
export function uniqueSession(prefix = "s"): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export function action(n: number, extra: Partial<SlimAction> = {}): Partial<SlimAction> {
  return {
    title: `Action ${n}`,
    description: `User did thing ${n}`,
    canonical_url: `https://app.example.com/page/${n % 3}`,
    type: "click",
    index: n,
    timestamp_start: 1_700_000_000 + n,
    ...extra,
  };
}

export function batch(productId: string, sessionId: string, from: number, count: number, extra: Record<string, unknown> = {}) {
  return {
    type: "actions",
    product_id: productId,
    session_id: sessionId,
    actions: Array.from({ length: count }, (_, i) => action(from + i)),
    ...extra,
  };
}

export function request(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`https://relay.test${path}`, init));
}

export function postActions(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return request("/v1/actions", {
    method: "POST",
    headers: { ...auth, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function sessionPath(productId: string, sessionId: string, suffix = ""): string {
  return `/v1/products/${encodeURIComponent(productId)}/sessions/${encodeURIComponent(sessionId)}${suffix}`;
}

export async function getState(productId: string, sessionId: string) {
  const res = await request(sessionPath(productId, sessionId), { headers: auth });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (await res.json()) as any };
}

export function stubFor(productId: string, sessionId: string) {
  return env.SESSION.getByName(`${productId}:${sessionId}`);
}

/** Makes every waiting step due now, as if its backoff had elapsed. */
export async function makeStepsDue(productId: string, sessionId: string): Promise<void> {
  await runInDurableObject(stubFor(productId, sessionId), (_instance, state) => {
    state.storage.sql.exec("UPDATE steps SET next_attempt_at = 0");
  });
}

interface ActorInternals {
  draining: Promise<void> | null;
  core: { nextStep(now: number): unknown };
}

/**
 * Runs the session's alarm until nothing is due now (bounded). A natural alarm may be running
 * at the same time (workerd fires them in tests too), so each round also waits for any drain
 * in flight before asking the plan whether anything is still due.
 */
export async function settle(productId: string, sessionId: string, maxRuns = 100): Promise<number> {
  const stub = stubFor(productId, sessionId);
  for (let runs = 0; runs < maxRuns; runs++) {
    await runDurableObjectAlarm(stub);
    const due = await runInDurableObject(stub, async (instance) => {
      const actor = instance as unknown as ActorInternals;
      if (actor.draining) await actor.draining;
      return actor.core.nextStep(Date.now()) !== null;
    });
    if (!due) return runs + 1;
  }
  throw new Error(`session ${sessionId} still has due steps after ${maxRuns} alarm runs`);
}

export async function sqlRows<T = Record<string, unknown>>(productId: string, sessionId: string, query: string): Promise<T[]> {
  return runInDurableObject(stubFor(productId, sessionId), (_i, state) => state.storage.sql.exec(query).toArray() as T[]);
}
