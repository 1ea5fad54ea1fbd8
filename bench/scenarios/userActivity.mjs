// A user's activity (issue 13): p50/p99 of `get_live_user_activity` for a user with 10 sessions,
// over MCP (POST /mcp, tools/call, as a 2025-era stateless client sends it) and over its REST twin
// (GET /v1/products/:p/users/:u/activity). Each call reads the product's index and the ten
// sessions at once. Sequential requests (one client), after every session has a posted summary.
import { performance } from "node:perf_hooks";
import { getJson, isOk, request, sendBatch } from "../client.mjs";
import { AUTH, PRODUCT } from "../constants.mjs";
import { log } from "../log.mjs";
import { percentile, round } from "../stats.mjs";

const SESSIONS = 10;
/** Per session: one window of K=10 summarised, and one batch it does not cover. */
const BATCHES_PER_SESSION = 3;
const LIMIT = 20;

export async function scenarioUserActivity(ctx, server) {
  const { profile, runId } = ctx;
  const user = `bench-user-${runId}`;
  const sessions = Array.from({ length: SESSIONS }, (_, i) => `ua-${runId}-${i}`);
  for (let b = 0; b < BATCHES_PER_SESSION; b++) {
    for (const sessionId of sessions) {
      const r = await sendBatch(server.port, { runId, sessionId, actionsPerBatch: profile.actionsPerBatch, extra: { user_id: user } });
      if (!isOk(r.status)) throw new Error(`POST /v1/actions answered ${r.status}: ${r.body.slice(0, 200)}`);
    }
  }
  const restPath = `/v1/products/${PRODUCT}/users/${user}/activity?limit=${LIMIT}`;
  const ready = await waitUntil(profile.settleMaxMs, async () => {
    const { json } = await getJson(server.port, restPath, AUTH);
    return json?.sessions?.length === SESSIONS && json.sessions.every((s) => s.latest_summary !== null);
  });
  if (!ready) throw new Error(`the user's ${SESSIONS} sessions and their summaries were not all visible within ${profile.settleMaxMs} ms`);

  const requests = profile.userActivityRequests;
  const mcpBody = (id) =>
    JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_live_user_activity", arguments: { product_id: PRODUCT, user_id: user, limit: LIMIT } } });
  const mcpHeaders = { ...AUTH, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" };
  const mcp = await timed(requests, (i) => request(server.port, "POST", "/mcp", { headers: mcpHeaders, body: mcpBody(i + 1) }), (r) => isOk(r.status) && r.body.includes('"structuredContent"') && !r.body.includes('"isError":true'));
  const rest = await timed(requests, () => request(server.port, "GET", restPath, { headers: AUTH }), (r) => r.status === 200);
  log(`user activity (${SESSIONS} sessions): MCP p50 ${mcp.p50Ms} ms, p99 ${mcp.p99Ms} ms; REST p50 ${rest.p50Ms} ms, p99 ${rest.p99Ms} ms (${requests} sequential requests each)`);
  for (const [name, x] of Object.entries({ mcp, rest })) {
    if (x.failed) ctx.results.errors.push({ scenario: `userActivity ${name}`, message: `${x.failed} of ${requests} requests failed: ${x.firstError}` });
  }
  return { sessions: SESSIONS, actionsPerSession: BATCHES_PER_SESSION * profile.actionsPerBatch, limit: LIMIT, requests, mcp, rest };
}

/** `n` sequential requests: latency percentiles and failures. */
async function timed(n, send, ok) {
  const ms = [];
  let failed = 0;
  let firstError = null;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    try {
      const r = await send(i);
      if (!ok(r)) {
        failed += 1;
        firstError ??= `${r.status} ${r.body.slice(0, 200)}`;
      }
    } catch (err) {
      failed += 1;
      firstError ??= String(err.message ?? err);
    }
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50Ms: round(percentile(ms, 0.5)), p99Ms: round(percentile(ms, 0.99)), maxMs: round(ms.at(-1)), failed, firstError };
}

async function waitUntil(maxMs, check) {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
