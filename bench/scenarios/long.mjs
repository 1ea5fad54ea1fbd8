// Scenario 5: one long session, K = 10. Runs first on a fresh server so every LLM call is its own.
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { log } from "../log.mjs";
import { driveLoad } from "../load.mjs";
import { target } from "../results.mjs";
import { isIdle, sessionState } from "../sessionState.mjs";
import { round } from "../stats.mjs";

export async function scenarioLong(ctx, ours, fakes) {
  const { profile } = ctx;
  const apb = profile.actionsPerBatch;
  const batches = Math.ceil(profile.longActions / apb);
  const actions = batches * apb;
  const sessionId = `long-${ctx.runId}`;
  await fakes.reset();
  log(`long session: ${actions} actions in ${batches} batches of ${apb}, K=${profile.threshold}`);
  const peaks = createPeaks();
  const t0 = performance.now();
  const load = await ingestSampled(ours.port, sessionId, peaks, () =>
    driveLoad(ctx, ours.port, [sessionId], { seconds: profile.longWaitMaxMs / 1000, maxRequests: batches, concurrency: 1 }),
  );
  const ingestMs = performance.now() - t0;
  const ingestEndedAt = Date.now();
  if (load.failed > 0) throw new Error(`long session ingest: ${load.failed} failed (${load.firstError})`);
  const expectedLlm = Math.floor(actions / profile.threshold);
  const idleBy = await waitForQuiescence(ours.port, sessionId, fakes, peaks, { expectedLlm, maxMs: profile.longWaitMaxMs });
  const drainMs = performance.now() - t0 - ingestMs;
  // Extra second: anything still trickling in would show up in the counts.
  await sleep(1_000);
  const state = await sessionState(ours.port, sessionId);
  const llmRecords = (await fakes.records("llm")).filter((r) => r.path?.endsWith("/chat/completions"));
  const destRecords = await fakes.records("destination");
  const byKind = {};
  for (const r of destRecords) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  const rows = state?.storage?.rows ?? null;
  const out = {
    sessionId,
    actions,
    batches,
    threshold: profile.threshold,
    ingest: { seconds: round(ingestMs / 1000, 2), rps: load.rps, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
    quiescence: { by: idleBy, drainSeconds: round(drainMs / 1000, 2) },
    llmCalls: llmRecords.length,
    llmCallsDuringIngest: llmRecords.filter((r) => r.at <= ingestEndedAt).length,
    expectedLlmCalls: expectedLlm,
    peaks: peaks.value,
    destinationCalls: destRecords.length,
    destinationCallsByKind: byKind,
    storageRows: rows,
    storageBytes: state?.storage?.bytes ?? null,
    rowsTarget: 3 * profile.threshold,
    promptChars: promptGrowth(llmRecords.map((r) => r.promptChars ?? 0)),
    finalState: trimState(state),
  };
  const rowsGoal = `≤ 3K = ${3 * profile.threshold}`;
  const { samples, rows: peakRows } = out.peaks;
  // Windows that wait behind the lane are summarised together (catch-up), so this is at most one
  // call per window; exactly one per window only when the LLM keeps up with arrivals.
  target(ctx.results, "long session: LLM calls", `${out.llmCalls} (one per window: ${expectedLlm})`, `≤ actions/K = ${expectedLlm}`, out.llmCalls <= expectedLlm);
  target(ctx.results, "long session: rows kept at the end", rows, rowsGoal, rows === null ? null : rows <= 3 * profile.threshold);
  target(ctx.results, "long session: most rows at any sample (every ~1 s)", samples ? peakRows : null, rowsGoal, samples ? peakRows <= 3 * profile.threshold : null);
  target(ctx.results, "long session: largest prompt, last 10% ÷ first 10%", out.promptChars.growth, "flat (≤ 1.1)", out.promptChars.growth === null ? null : out.promptChars.growth <= 1.1);
  return out;
}

/** Peaks over the whole session, not just at the end: rows must stay O(K) at every moment. */
function createPeaks() {
  const value = { rows: 0, bytes: 0, pendingActions: 0, unsummarisedWindows: 0, samples: 0 };
  const sample = (st) => {
    if (!st || st._status || st._error) return;
    value.samples++;
    value.rows = Math.max(value.rows, Number(st.storage?.rows ?? 0));
    value.bytes = Math.max(value.bytes, Number(st.storage?.bytes ?? 0));
    value.pendingActions = Math.max(value.pendingActions, Number(st.pending?.actions ?? 0));
    value.unsummarisedWindows = Math.max(value.unsummarisedWindows, Number(st.windows?.unsummarised ?? 0));
  };
  return { value, sample };
}

/** Runs `ingest()` while sampling the session's state about every second. */
async function ingestSampled(port, sessionId, peaks, ingest) {
  let ingesting = true;
  const sampler = (async () => {
    for (let i = 0; ingesting && i < 100_000; i++) {
      peaks.sample(await sessionState(port, sessionId));
      await sleep(1_000);
    }
  })();
  try {
    return await ingest();
  } finally {
    ingesting = false;
    await sampler;
  }
}

/**
 * Waits for quiescence and says how it was decided: the state says idle; or (without those
 * fields) LLM calls reached the expected count and nothing moved for 3 s. Gives up after `maxMs`
 * or 60 s without progress (then the answer is null or "gave up: ...").
 */
async function waitForQuiescence(port, sessionId, fakes, peaks, { expectedLlm, maxMs }) {
  const deadline = performance.now() + maxMs;
  let lastProgress = performance.now();
  let lastCounts = "";
  let idleStreak = 0;
  let lastIdleCounts = "";
  while (performance.now() < deadline) {
    const state = await sessionState(port, sessionId);
    peaks.sample(state);
    const llm = await fakes.stats("llm");
    const dest = await fakes.stats("destination");
    const counts = `${llm.calls}/${dest.calls}`;
    if (counts !== lastCounts) {
      lastCounts = counts;
      lastProgress = performance.now();
    }
    const idle = isIdle(state);
    // Idle twice in a row, 500 ms apart, with no fake call in between (a redaction may follow the
    // last summary's post).
    idleStreak = idle === true && llm.inFlight === 0 && dest.inFlight === 0 && counts === lastIdleCounts ? idleStreak + 1 : 0;
    lastIdleCounts = idle === true ? counts : "";
    if (idle === true && idleStreak >= 1) return "session state (pending.actions, windows.unsummarised/unposted = 0, step = null)";
    if (idle === null && llm.calls >= expectedLlm && performance.now() - lastProgress > 3_000) return "fake counters stable (session state has no pending/windows/step fields)";
    if (performance.now() - lastProgress > 60_000) return "gave up: no progress for 60 s";
    await sleep(500);
  }
  return null;
}

/** Largest prompt overall, in the first and the last 10% of LLM calls, and their ratio. */
function promptGrowth(sizes) {
  const tenth = Math.max(1, Math.floor(sizes.length / 10));
  const firstMax = sizes.length ? Math.max(...sizes.slice(0, tenth)) : null;
  const lastMax = sizes.length ? Math.max(...sizes.slice(-tenth)) : null;
  return { max: sizes.length ? Math.max(...sizes) : null, maxFirst10pct: firstMax, maxLast10pct: lastMax, growth: firstMax ? round(lastMax / firstMax, 3) : null };
}

function trimState(state) {
  const s = JSON.stringify(state ?? null);
  return s.length > 4_000 ? { truncated: s.slice(0, 4_000) } : state;
}
