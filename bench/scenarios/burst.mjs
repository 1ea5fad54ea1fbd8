// Scenario "burst": one session, N actions in batches of 5 sent one after another as fast as the
// session accepts them (a 429 session_backlog is honoured: wait Retry-After, resend the same
// batch), with the LLM answering after 300 ms, slower than the arrivals. Reports LLM calls, the
// most rows the session held (state sampled about every second), the drain time after the last
// batch, and whether every action ended covered by a posted summary.
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { isOk, makeBatch, request } from "../client.mjs";
import { AUTH } from "../constants.mjs";
import { log } from "../log.mjs";
import { readMeter, resetMeter } from "../meterClient.mjs";
import { target } from "../results.mjs";
import { isIdle, sessionState } from "../sessionState.mjs";
import { round } from "../stats.mjs";

const ACTIONS_PER_BATCH = 5;
/** The burst the issue measured before: 4,005 rows at the peak. Peak rows must stay under 10% of it. */
const PEAK_ROWS_BEFORE = 4_005;
const PEAK_ROWS_TARGET = Math.floor(PEAK_ROWS_BEFORE / 10);

/** `label` names the destination the server runs (its targets are per destination). */
export async function scenarioBurst(ctx, server, fakes, label) {
  const { profile, runId } = ctx;
  const n = profile.burstActions;
  const K = profile.threshold;
  const sessionId = `burst-${label}-${runId}`;
  await fakes.reset();
  await fakes.setLatency(0, profile.burstLlmMs);
  await resetMeter(server.port);
  const peak = { rows: 0, samples: 0 };
  const sample = async () => {
    const st = await sessionState(server.port, sessionId);
    if (st?.storage) {
      peak.samples++;
      peak.rows = Math.max(peak.rows, Number(st.storage.rows ?? 0));
    }
    return st;
  };
  let sending = true;
  const sampler = (async () => {
    while (sending) {
      await sample();
      await sleep(1_000);
    }
  })();
  const t0 = performance.now();
  let sent;
  try {
    sent = await sendBurst(server.port, `${runId}-burst`, sessionId, n / ACTIONS_PER_BATCH, profile.burstWaitMaxMs);
  } finally {
    sending = false;
    await sampler;
  }
  const ingestS = (performance.now() - t0) / 1000;
  log(`burst (${label}): ${n} actions accepted in ${round(ingestS, 1)} s (${sent.refusals} refusals of 429 session_backlog); draining`);
  const t1 = performance.now();
  const deadline = t1 + profile.burstWaitMaxMs;
  let state = null;
  for (let streak = 0; streak < 2 && performance.now() < deadline; ) {
    state = await sample();
    const llm = await fakes.stats("llm");
    streak = isIdle(state) === true && llm.inFlight === 0 ? streak + 1 : 0;
    await sleep(500);
  }
  const drainS = round((performance.now() - t1) / 1000, 2);
  await fakes.setLatency(0, 0);
  const llmCalls = (await fakes.stats("llm")).calls;
  const meter = await readMeter(server.port);
  const covered = coverage(state, n);
  const out = { destination: label, actions: n, batches: n / ACTIONS_PER_BATCH, threshold: K, llmMs: profile.burstLlmMs, ingestS: round(ingestS, 2), refusals: sent.refusals, retryAfterS: sent.retryAfterS, drainS, llmCalls, maxLlmCalls: Math.floor(n / K), peakRows: peak.rows, samples: peak.samples, alarms: meter.do_requests.alarms, rowsWritten: meter.storage.rows_written, covered, finalRows: state?.storage?.rows ?? null };
  target(ctx.results, `burst (${label}): LLM calls for ${n} actions (LLM ${profile.burstLlmMs} ms)`, llmCalls, `≤ ⌊N/K⌋ = ${out.maxLlmCalls}`, llmCalls <= out.maxLlmCalls);
  target(ctx.results, `burst (${label}): most rows at any sample (every ~1 s)`, peak.samples ? peak.rows : null, `≤ ${PEAK_ROWS_TARGET} (10% of ${PEAK_ROWS_BEFORE.toLocaleString("en-US")})`, peak.samples ? peak.rows <= PEAK_ROWS_TARGET : null);
  target(ctx.results, `burst (${label}): every action covered by a posted summary at the end`, covered.ok ? "yes" : `no (${covered.why})`, "all", covered.ok);
  return out;
}

/** Sends `batches` in order; a 429 waits its Retry-After and resends the same batch (same key). */
async function sendBurst(port, keyPrefix, sessionId, batches, maxMs) {
  const deadline = performance.now() + maxMs;
  let refusals = 0;
  const retryAfterS = [];
  for (let seq = 1; seq <= batches; seq++) {
    const body = makeBatch(sessionId, seq, ACTIONS_PER_BATCH);
    for (;;) {
      if (performance.now() > deadline) throw new Error(`burst: batch ${seq} of ${batches} not accepted within ${maxMs / 1000} s`);
      const r = await request(port, "POST", "/v1/actions", { headers: { "content-type": "application/json", "idempotency-key": `${keyPrefix}-${seq}`, ...AUTH }, body });
      if (isOk(r.status)) break;
      if (r.status !== 429) throw new Error(`burst: batch ${seq} answered ${r.status}: ${r.body.slice(0, 200)}`);
      refusals++;
      const wait = Number(r.headers?.["retry-after"] ?? JSON.parse(r.body)?.error?.message?.match(/retry after (\d+) s/)?.[1] ?? 5);
      retryAfterS.push(wait);
      await sleep(wait * 1000);
    }
  }
  return { refusals, retryAfterS: retryAfterS.length ? { min: Math.min(...retryAfterS), max: Math.max(...retryAfterS) } : null };
}

/** Every accepted action covered by a posted summary: nothing pending, open or in the backlog. */
function coverage(state, n) {
  if (!state?.counters) return { ok: false, why: "no session state" };
  const accepted = state.counters.actions_accepted;
  const why = [
    accepted !== n && `${accepted} of ${n} accepted`,
    state.backlog?.actions > 0 && `${state.backlog.actions} not covered by a posted summary`,
    state.open_window?.actions > 0 && `${state.open_window.actions} in the open window`,
    state.pending?.actions > 0 && `${state.pending.actions} pending`,
  ].filter(Boolean);
  return { ok: why.length === 0, why: why.join(", ") || null, accepted, summaries: state.counters.summaries };
}
