// Scenario "price": a fixed load (S sessions × W windows × 2 batches of 5 actions, K=10) on each
// configuration (DEBOUNCE_MS 0 and 200 × store, webhook, Intercom) and on the floor, each on its
// own server with METER=on. Once drained, the meter's exact counts and the stored bytes are scaled
// to one million actions and priced (bench/prices.mjs). The load is the same requests everywhere:
// each session sends a window's two batches back to back, then pauses, so a debounce merges
// exactly one window's batches into one raw note.
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { isOk, sendBatch } from "../client.mjs";
import { cpuDelta, groupCpuMs } from "../cpu.mjs";
import { log } from "../log.mjs";
import { quietMeter, resetMeter } from "../meterClient.mjs";
import { costOf, PRICES } from "../prices.mjs";
import { target } from "../results.mjs";
import { isIdle, sessionState } from "../sessionState.mjs";
import { round } from "../stats.mjs";

const ACTIONS_PER_BATCH = 5;
const BATCHES_PER_WINDOW = 2;
/** Longer than the largest DEBOUNCE_MS measured, so each window's batches are one burst. */
const PAUSE_MS = 500;

/** The configurations the profile prices (the floor comes on top). */
export function priceConfigs(profile) {
  const debounces = profile.name === "quick" ? [0] : [0, 200];
  return debounces.flatMap((debounceMs) => ["store", "webhook", "intercom"].map((destination) => ({ key: `${destination}-debounce${debounceMs}`, destination, debounceMs })));
}

/** `servers`: `{ [config.key]: server }` plus `floor`; each is stopped by the caller. */
export async function scenarioPrice(ctx, servers, fakes, stop) {
  const { profile } = ctx;
  const rows = [];
  for (const config of [...priceConfigs(profile), { key: "floor", destination: "floor", debounceMs: null }]) {
    const server = servers[config.key];
    if (!server) continue;
    log(`price: ${config.key}, ${profile.priceSessions} sessions × ${profile.priceWindows} windows × ${BATCHES_PER_WINDOW} batches of ${ACTIONS_PER_BATCH}`);
    try {
      const row = await pricePhase(ctx, server, fakes, config);
      log(`  → per million actions: ${row.perMillion.workerRequests} requests, ${row.perMillion.doRequests} DO requests (${row.perMillion.alarms} alarms), ${row.perMillion.rowsWritten} rows written, ${row.perMillion.llmCalls} LLM calls; $${row.costUsd.total.toFixed(3)}`);
      rows.push(row);
    } finally {
      await stop(server);
    }
  }
  const floor = rows.find((r) => r.key === "floor");
  for (const r of rows) r.costRatioToFloor = floor && r !== floor ? round(r.costUsd.total / floor.costUsd.total, 2) : null;
  for (const r of rows.filter((x) => x.destination === "store" && floor)) {
    target(ctx.results, `price: store (DEBOUNCE_MS=${r.debounceMs}) ÷ floor, Cloudflare cost per million actions`, r.costRatioToFloor, "≤ 2", r.costRatioToFloor <= 2);
  }
  return { load: { sessions: profile.priceSessions, windows: profile.priceWindows, batchesPerWindow: BATCHES_PER_WINDOW, actionsPerBatch: ACTIONS_PER_BATCH, pauseMs: PAUSE_MS, threshold: profile.threshold }, prices: PRICES, rows };
}

async function pricePhase(ctx, server, fakes, config) {
  const { profile, runId } = ctx;
  const sessions = Array.from({ length: profile.priceSessions }, (_, i) => `price-${config.key}-${runId}-${i}`);
  await fakes.reset();
  await resetMeter(server.port);
  const cpu0 = groupCpuMs(server);
  const t0 = performance.now();
  const sent = await sendLoad(server.port, runId, sessions, profile.priceWindows, config.destination === "intercom");
  if (sent.failed) throw new Error(`price ${config.key}: ${sent.failed} of ${sent.requests} batches refused (${sent.firstError})`);
  const windows = sessions.length * profile.priceWindows;
  const ours = config.destination !== "floor";
  // Drained: every window summarised (the LLM keeps up here) and nothing moved for a while.
  const { meter } = await quietMeter(server.port, { ready: (m) => !ours || m.llm.calls >= windows, maxMs: profile.priceDrainMaxMs });
  const drainS = round((performance.now() - t0) / 1000, 2);
  const cpu = cpuDelta(cpu0, groupCpuMs(server));
  const ingested = meter.do_requests.rpc_by_method.ingest ?? 0;
  if (meter.worker_requests.by_route["POST /v1/actions"] !== sent.requests || ingested !== sent.requests) {
    throw new Error(`price ${config.key}: the meter saw ${meter.worker_requests.by_route["POST /v1/actions"]} requests and ${ingested} ingest RPCs for ${sent.requests} sent: the Worker and its Durable Objects are not one isolate, so the counts are partial`);
  }
  // Read after the snapshot: these state reads are not in the figures.
  const storage = await drainedStorage(server.port, sessions, ours, config.key);
  const actions = sent.requests * ACTIONS_PER_BATCH;
  const per = (x) => round((x * 1e6) / actions, 0);
  const destinationCalls = meter.destination_calls.total;
  const perMillion = {
    workerRequests: per(meter.worker_requests.total),
    doRequests: per(meter.do_requests.total),
    rpcs: per(meter.do_requests.rpc),
    alarms: per(meter.do_requests.alarms),
    sqlStatements: per(meter.storage.sql_statements),
    rowsRead: per(meter.storage.rows_read),
    rowsWritten: per(meter.storage.rows_written),
    storedBytes: per(storage.bytes),
    destinationCalls: per(destinationCalls),
    llmCalls: per(meter.llm.calls),
    promptTokens: per(meter.llm.prompt_tokens),
    completionTokens: per(meter.llm.completion_tokens),
    cpuMs: cpu.workerdUser === undefined ? null : per(cpu.workerdUser),
  };
  return { ...config, sessions: sessions.length, requests: sent.requests, actions, drainS, meter, storedBytes: storage.bytes, storedBytesPerSession: round(storage.bytes / sessions.length, 0), storedRows: storage.rows, fakeDestinationCalls: (await fakes.stats("destination")).calls, perMillion, costUsd: costOf(perMillion) };
}

/** Every session's windows, each two batches back to back then a pause; sessions in parallel. */
async function sendLoad(port, runId, sessions, windows, linked) {
  const out = { requests: 0, failed: 0, firstError: null };
  await Promise.all(
    sessions.map(async (sessionId, i) => {
      // Spread the sessions' starts over one pause, so their bursts do not all coincide.
      await sleep(Math.round((PAUSE_MS * i) / sessions.length));
      const extra = linked ? { conversation_id: `conv-${sessionId}` } : {};
      for (let w = 0; w < windows; w++) {
        for (let b = 0; b < BATCHES_PER_WINDOW; b++) {
          const r = await sendBatch(port, { runId, sessionId, actionsPerBatch: ACTIONS_PER_BATCH, extra }).catch((err) => ({ status: 0, body: err.message }));
          out.requests++;
          if (!isOk(r.status)) {
            out.failed++;
            out.firstError ??= `${r.status} ${r.body.slice(0, 200)}`;
          }
        }
        await sleep(PAUSE_MS);
      }
    }),
  );
  return out;
}

/** Sums the sessions' stored rows and bytes; ours must show each session idle (nothing pending, no step). */
async function drainedStorage(port, sessions, ours, key) {
  let bytes = 0;
  let rows = 0;
  for (const s of sessions) {
    const state = await sessionState(port, s);
    if (ours && isIdle(state) !== true) throw new Error(`price ${key}: session ${s} is not drained after the meter settled: ${JSON.stringify(state).slice(0, 300)}`);
    bytes += Number(state?.storage?.bytes ?? 0);
    rows += Number(state?.storage?.rows ?? 0);
  }
  return { bytes, rows };
}
