// The load client: node:http with a keep-alive pool (less client CPU per request than fetch, which
// matters when the driver shares 2 cores with workerd), a batch generator, and a fixed-concurrency
// driver that reports throughput and latency percentiles. Every request has a timeout.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { AUTH, HOST, PRODUCT } from "./constants.mjs";
import { percentile, round } from "./stats.mjs";

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, keepAliveMsecs: 10_000 });
const T_BASE = 1_700_000_000;
let seqCounter = 0;

export const isOk = (status) => status >= 200 && status < 300;

/** Resolves `{ status, body }` (body as text); rejects on a network error or after `timeoutMs`. */
export function request(port, method, urlPath, { headers = {}, body, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port, method, path: urlPath, agent, headers: body ? { "content-length": Buffer.byteLength(body), ...headers } : headers, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** `json` is null when the body is not JSON. */
export async function getJson(port, urlPath, headers = {}) {
  const r = await request(port, "GET", urlPath, { headers, timeoutMs: 10_000 });
  let json = null;
  try {
    json = JSON.parse(r.body);
  } catch {
    /* not JSON */
  }
  return { status: r.status, json, body: r.body };
}

export function postJson(port, urlPath, value) {
  return request(port, "POST", urlPath, { headers: { "content-type": "application/json" }, body: JSON.stringify(value), timeoutMs: 10_000 });
}

/** Closes the keep-alive sockets so the process can exit. */
export function closeClient() {
  agent.destroy();
}

/** One batch of `actionsPerBatch` fixed-size actions as the JSON body of POST /v1/actions. */
export function makeBatch(sessionId, seq, actionsPerBatch, extra = {}) {
  const actions = [];
  // Fixed-width numbers: every action has the same size however long the run, so prompt sizes
  // can only grow if the service's prompts grow.
  const tag = String(seq % 10_000_000).padStart(7, "0");
  for (let k = 0; k < actionsPerBatch; k++) {
    const page = (seq + k) % 7;
    actions.push({
      title: `Clicked "Save" on settings page ${page}`,
      description: `User clicked the Save button on the integrations settings page (${tag}.${k})`,
      canonical_url: `https://app.example.com/settings/integrations/${page}`,
      raw_url: `https://app.example.com/settings/integrations/${page}?tab=general`,
      type: "click",
      index: k,
      timestamp_start: T_BASE + seq,
      timestamp_end: T_BASE + seq + 0.25,
    });
  }
  return JSON.stringify({ type: "actions", product_id: PRODUCT, session_id: sessionId, forwarded_at: T_BASE + seq, actions, ...extra });
}

/**
 * POST /v1/actions with one new batch (plus `extra` payload fields); the idempotency key is unique
 * within the run. `auth` replaces the root token's header (a scoped key).
 */
export function sendBatch(port, { runId, sessionId, actionsPerBatch, extra = {}, auth = AUTH }) {
  const seq = ++seqCounter;
  return request(port, "POST", "/v1/actions", {
    headers: { "content-type": "application/json", "idempotency-key": `${runId}-${seq}`, ...auth },
    body: makeBatch(sessionId, seq, actionsPerBatch, extra),
  });
}

/**
 * Drives POST /v1/actions with `concurrency` workers until `seconds` pass or `maxRequests` are
 * sent, round-robin over `sessions` (of `product`, default the bench's). Returns throughput and
 * latency of that window.
 */
export async function drive(port, { runId, sessions, seconds, maxRequests, concurrency, actionsPerBatch, auth, product }) {
  const extra = product ? { product_id: product } : {};
  const latencies = [];
  const statuses = {};
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError = null;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (next < maxRequests && performance.now() < deadline) {
      const i = next++;
      const s = performance.now();
      try {
        const r = await sendBatch(port, { runId, sessionId: sessions[i % sessions.length], actionsPerBatch, auth, extra });
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (isOk(r.status)) {
          ok++;
          latencies.push(performance.now() - s);
        } else {
          failed++;
          firstError ??= `${r.status} ${r.body.slice(0, 300)}`;
        }
      } catch (err) {
        failed++;
        statuses.error = (statuses.error ?? 0) + 1;
        firstError ??= err.message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: ok + failed,
    ok,
    failed,
    statuses,
    firstError,
    elapsedS: round(elapsedS, 3),
    rps: round(ok / elapsedS, 1),
    actionsPerS: round((ok * actionsPerBatch) / elapsedS, 1),
    p50Ms: round(percentile(latencies, 0.5)),
    p90Ms: round(percentile(latencies, 0.9)),
    p99Ms: round(percentile(latencies, 0.99)),
    maxMs: round(latencies.at(-1) ?? null),
  };
}
