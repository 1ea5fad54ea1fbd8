// Reading a worker's meter (GET/DELETE /v1/meter, src/meter.ts; the floor keeps the same one).
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { AUTH } from "./constants.mjs";
import { getJson, request } from "./client.mjs";

export async function readMeter(port) {
  const r = await getJson(port, "/v1/meter", AUTH);
  if (r.status !== 200 || !r.json) throw new Error(`GET /v1/meter answered ${r.status}: ${r.body.slice(0, 200)} (is METER=on?)`);
  return r.json;
}

export async function resetMeter(port) {
  const r = await request(port, "DELETE", "/v1/meter", { headers: AUTH, timeoutMs: 10_000 });
  if (r.status !== 204) throw new Error(`DELETE /v1/meter answered ${r.status}`);
}

/** The meter once nothing moved for `quietMs` and `ready(meter)` holds; throws after `maxMs`. */
export async function quietMeter(port, { ready = () => true, quietMs = 1_500, maxMs = 60_000, pollMs = 250 } = {}) {
  const t0 = performance.now();
  let last = null;
  let since = performance.now();
  while (performance.now() - t0 < maxMs) {
    const m = await readMeter(port);
    const key = JSON.stringify({ ...m, since: null });
    if (key !== last) {
      last = key;
      since = performance.now();
    } else if (ready(m) && performance.now() - since >= quietMs) {
      return { meter: m, waitedMs: Math.round(performance.now() - t0) };
    }
    await sleep(pollMs);
  }
  throw new Error(`the meter did not settle within ${maxMs / 1000} s (last: ${last?.slice(0, 300)})`);
}
