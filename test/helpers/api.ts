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

/**
 * Writes the session's storage behind its actor (a test's stand-in for time passing or a lost
 * write), then tells the actor that what it read before no longer holds: in production the actor
 * is its storage's only writer, so it keeps what it read until it writes.
 */
export async function behindActor(productId: string, sessionId: string, write: (sql: SqlStorage) => void): Promise<void> {
  await runInDurableObject(stubFor(productId, sessionId), (instance, state) => {
    write(state.storage.sql);
    forgetReads(instance);
  });
}

/** Tells a session's actor (from `runInDurableObject`) that its storage changed behind it. */
export function forgetReads(instance: unknown): void {
  (instance as { store: { forget(): void } }).store.forget();
}

/** Makes every waiting step due now, as if its backoff had elapsed. */
export async function makeStepsDue(productId: string, sessionId: string): Promise<void> {
  await behindActor(productId, sessionId, (sql) => void sql.exec("UPDATE steps SET next_attempt_at = 0"));
}

/**
 * Moves the session's last action `ms` into the past, as if that much time had gone by since (with
 * the times in `alsoColumns` of its row): the session's row, and a session with no lane keeps its
 * open window's last arrival in that window's row until it closes.
 */
export function ageLastAction(sql: SqlStorage, ms: number, alsoColumns: readonly string[] = []): void {
  const set = ["last_action_at", ...alsoColumns].map((c) => `${c} = ${c} - ?`).join(", ");
  sql.exec(`UPDATE session SET ${set}`, ...[ms, ...alsoColumns.map(() => ms)]);
  sql.exec("UPDATE batches SET last_at = last_at - ? WHERE last_at IS NOT NULL", ms);
}

/** A due step is re-armed at most a few ms ahead (now + 1 from inside `alarm()`); a wait is far longer. */
const DUE_WITHIN_MS = 10;
/** How long `settle` waits for runs that workerd started by itself. */
const SETTLE_TIMEOUT_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs the session's alarm until nothing is due now (bounded), through `runDurableObjectAlarm` and
 * the actor's public state only. Workerd also fires alarms by itself: while one of those runs, the
 * actor shows no alarm (it is consumed as it fires), so a missing alarm means "wait for that run".
 */
export async function settle(productId: string, sessionId: string, maxRuns = 100): Promise<void> {
  const stub = stubFor(productId, sessionId);
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (let runs = 0; runs < maxRuns && Date.now() < deadline; ) {
    if (await runDurableObjectAlarm(stub)) runs += 1;
    const state = await stub.state();
    if (state === null) return;
    if (state.next_alarm_at === null) {
      await sleep(5);
      continue;
    }
    const wait = Date.parse(state.next_alarm_at) - Date.now();
    if (wait > DUE_WITHIN_MS) return;
    if (wait > 0) await sleep(wait);
  }
  throw new Error(`session ${sessionId} still has due steps after ${maxRuns} alarm runs or ${SETTLE_TIMEOUT_MS} ms`);
}

export async function sqlRows<T = Record<string, unknown>>(productId: string, sessionId: string, query: string): Promise<T[]> {
  // A query may write (a test's stand-in for time passing): the actor reads storage afresh after it.
  return runInDurableObject(stubFor(productId, sessionId), (instance, state) => {
    const rows = state.storage.sql.exec(query).toArray() as T[];
    forgetReads(instance);
    return rows;
  });
}
