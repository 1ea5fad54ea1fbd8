// Scenarios 1 and 2: ours (whole pipeline), ours (ingest path only) and the floor under the same
// load each, the order rotating every round; medians over rounds, and ratios to the floor.
import { request } from "../client.mjs";
import { AUTH, PRODUCT } from "../constants.mjs";
import { cpuDelta, groupCpuMs, settle, usPerRequest } from "../cpu.mjs";
import { log } from "../log.mjs";
import { driveLoad, loadsOf, rotate, sessionsLabel, warmSessions } from "../load.mjs";
import { profiled } from "../profiler.mjs";
import { target } from "../results.mjs";
import { median, round } from "../stats.mjs";

const INGEST_TARGETS = {
  ours: "ours (whole pipeline: store destination, DEBOUNCE_MS=0, LLM fake at 0 ms, LOG_LEVEL=warn)",
  oursKey: "ours again, sending a scoped ingest key (POST /v1/keys) instead of API_TOKEN: what key auth adds",
  oursIngestOnly: "ours (ingest path only: DEBOUNCE_MS=600000, K=1000, so no step runs during the phase)",
  floor: "floor (one INSERT per request)",
  floorSummary: "floor + summary call (the floor, and every second batch one LLM call and one row: the least a window's summary costs; reference, no target)",
};

const LABELS = { ours: "ours", oursKey: "ours with a scoped key,", oursIngestOnly: "ours, ingest path only,", floorSummary: "floor + summary call" };

/** `servers` maps ours / oursIngestOnly / floor to a running server, or null to leave it out. */
export async function scenarioIngest(ctx, given) {
  const { profile } = ctx;
  const servers = { ...given, oursKey: given.ours ? await withScopedKey(given.ours) : null };
  const loads = loadsOf(profile);
  const present = Object.keys(INGEST_TARGETS).filter((k) => servers[k]);
  const rounds = [];
  for (let r = 1; r <= profile.rounds; r++) {
    const order = rotate(present, r);
    const roundOut = { round: r, order };
    for (const load of loads) {
      for (const key of order) {
        log(`ingest round ${r}: ${key}, ${load.sessionCount} session(s), ${profile.ingestSeconds} s at concurrency ${profile.concurrency}`);
        const res = await measuredPhase(ctx, servers[key], { key, load, profiling: ctx.argv.profile && r === 1 && key !== "floor" });
        const c = res.cpuUsPerRequest;
        log(`  → ${res.rps} req/s, ${res.actionsPerS} actions/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, failed ${res.failed}; CPU µs/req: runtime ${c.userRuntimeDuringLoad} during load, ${c.userRuntimeIncludingBackground} with background; dev proxy ${c.devProxy}; wrangler ${c.wranglerNode}`);
        if (res.failed > 0) ctx.results.errors.push({ scenario: `ingest ${key} ${load.key}`, message: `${res.failed} of ${res.requests} requests failed: ${res.firstError}` });
        (roundOut[key] ??= {})[load.key] = res;
      }
    }
    rounds.push(roundOut);
  }
  const summary = summarise(present, loads, rounds);
  const ratios = summary.floor ? floorRatios(ctx, present, loads, rounds, summary) : {};
  return { targets: INGEST_TARGETS, summary, ratios, rounds };
}

/** ingestPhase(), under the profiler when `profiling` (its summary then goes in `profile`). */
async function measuredPhase(ctx, server, { key, load, profiling }) {
  const phase = () => ingestPhase(ctx, server, load.sessionCount);
  if (!profiling) return phase();
  const { value, profile } = await profiled(server, `${key}-${load.key}`, ctx.outDir, phase);
  if (profile.selfTop) log(`  profile: ${profile.file}; busy ${profile.busyMs} ms; top: ${profile.selfTop.slice(0, 5).map((x) => `${x.f} ${x.pct}%`).join(", ")}`);
  return { ...value, profile };
}

/** One measured ingest phase against one server, with warm-up and settling, plus CPU per request. */
async function ingestPhase(ctx, server, sessionCount) {
  const { settleMaxMs } = ctx.profile;
  const { sessions, warmup } = await warmSessions(ctx, server, sessionCount);
  const pre = await settle(server, settleMaxMs);
  const cpu0 = groupCpuMs(server);
  const result = await driveLoad(ctx, server.port, sessions, { seconds: ctx.profile.ingestSeconds, auth: server.auth });
  const cpuLoad = cpuDelta(cpu0, groupCpuMs(server));
  const post = await settle(server, settleMaxMs);
  const cpuAll = cpuDelta(cpu0, groupCpuMs(server));
  const perReq = (ms) => usPerRequest(ms, result.ok);
  return {
    ...result,
    sessions: sessionCount,
    warmupSeconds: warmup?.elapsedS ?? null,
    settleBefore: pre,
    settleAfter: post,
    cpuUsPerRequest: {
      workerdDuringLoad: perReq(cpuLoad.workerd),
      workerdIncludingBackground: perReq(cpuAll.workerd),
      userRuntimeDuringLoad: perReq(cpuLoad.workerdUser),
      userRuntimeIncludingBackground: perReq(cpuAll.workerdUser),
      devProxy: perReq(cpuAll.workerdProxy),
      wranglerNode: perReq(cpuAll.node),
    },
  };
}

/** Per worker and load: medians over rounds. */
function summarise(present, loads, rounds) {
  const summary = {};
  for (const key of present) {
    for (const load of loads) {
      const xs = rounds.map((r) => r[key]?.[load.key]).filter(Boolean);
      if (xs.length === 0) continue;
      const med = (pick, d = 2) => round(median(xs.map(pick)), d);
      (summary[key] ??= { label: INGEST_TARGETS[key] })[load.key] = {
        sessions: load.sessionCount,
        rps: med((x) => x.rps, 1),
        actionsPerS: med((x) => x.actionsPerS, 1),
        p50Ms: med((x) => x.p50Ms),
        p99Ms: med((x) => x.p99Ms),
        cpuUsPerRequestDuringLoad: med((x) => x.cpuUsPerRequest.userRuntimeDuringLoad, 0),
        cpuUsPerRequest: med((x) => x.cpuUsPerRequest.userRuntimeIncludingBackground, 0),
        devProxyCpuUsPerRequest: med((x) => x.cpuUsPerRequest.devProxy, 0),
        wranglerCpuUsPerRequest: med((x) => x.cpuUsPerRequest.wranglerNode, 0),
        failed: xs.reduce((a, x) => a + x.failed, 0),
      };
    }
  }
  return summary;
}

/** Each of ours ÷ the floor, with the throughput and p99 targets. */
function floorRatios(ctx, present, loads, rounds, summary) {
  const ratios = {};
  for (const key of present.filter((k) => k !== "floor")) {
    for (const load of loads) {
      const o = summary[key][load.key];
      const f = summary.floor[load.key];
      const perRound = rounds.map((r) => ({
        throughput: round(r[key][load.key].rps / r.floor[load.key].rps, 3),
        p99: round(r[key][load.key].p99Ms / r.floor[load.key].p99Ms, 3),
        // CPU per batch (one request is one batch), background work included: what is billed.
        cpu: cpuRatio(r[key][load.key], r.floor[load.key]),
      }));
      // Headline: the median of the per-round ratios (each round's phases ran back to back, so
      // the pair saw the same machine); the ratio of the medians is kept for reference.
      const x = ((ratios[key] ??= {})[load.key] = {
        throughput: round(median(perRound.map((q) => q.throughput)), 3),
        p99: round(median(perRound.map((q) => q.p99)), 3),
        cpuPerBatch: round(median(perRound.map((q) => q.cpu)), 3),
        ratioOfMedians: { throughput: round(o.rps / f.rps, 3), p99: round(o.p99Ms / f.p99Ms, 3) },
        cpuDuringLoad: o.cpuUsPerRequestDuringLoad && f.cpuUsPerRequestDuringLoad ? round(o.cpuUsPerRequestDuringLoad / f.cpuUsPerRequestDuringLoad, 2) : null,
        cpuWithBackground: o.cpuUsPerRequest && f.cpuUsPerRequest ? round(o.cpuUsPerRequest / f.cpuUsPerRequest, 2) : null,
        perRound,
      });
      const label = `${LABELS[key]} ÷ floor`;
      const n = sessionsLabel(load.sessionCount);
      if (key === "oursKey" && summary.ours) {
        // Key auth against the root token, round by round: the isolate caches a verified key, so
        // in the steady state it adds no round trip (issue 11).
        const vsRoot = rounds.map((r) => ({ throughput: r.oursKey[load.key].rps / r.ours[load.key].rps, cpu: cpuRatio(r.oursKey[load.key], r.ours[load.key]) }));
        x.vsRootToken = { throughput: round(median(vsRoot.map((q) => q.throughput)), 3), cpuPerBatch: round(median(vsRoot.map((q) => q.cpu)), 3) };
        const within = (v) => v !== null && Math.abs(v - 1) <= 0.1;
        target(ctx.results, `scoped key ÷ root token: throughput (${n})`, x.vsRootToken.throughput, "≈ 1 (±0.1, noise)", within(x.vsRootToken.throughput));
        target(ctx.results, `scoped key ÷ root token: CPU per batch (${n})`, x.vsRootToken.cpuPerBatch, "≈ 1 (±0.1, noise)", within(x.vsRootToken.cpuPerBatch));
        continue;
      }
      if (key === "floorSummary") {
        // A reference, not ours: what one LLM call per window adds to the floor on this runtime; and ours against it.
        target(ctx.results, `${label}: CPU per batch (${n})`, x.cpuPerBatch, "reference", null);
        if (summary.ours) {
          const vs = median(rounds.map((r) => cpuRatio(r.ours[load.key], r.floorSummary[load.key])).filter((v) => v !== null));
          x.oursVsThis = { cpuPerBatch: vs === null ? null : round(vs, 3) };
          target(ctx.results, `ours ÷ floor + summary call: CPU per batch (${n})`, x.oursVsThis.cpuPerBatch, "reference", null);
        }
        continue;
      }
      target(ctx.results, `${label} throughput (${n})`, x.throughput, "≥ 0.85", x.throughput >= 0.85);
      target(ctx.results, `${label} p99 (${n})`, x.p99, "≤ 1.2", x.p99 <= 1.2);
      target(ctx.results, `${label} CPU per batch (${n})`, x.cpuPerBatch, "≤ 1.3", x.cpuPerBatch === null ? null : x.cpuPerBatch <= 1.3);
    }
  }
  return ratios;
}

/** Runtime CPU per request of `ours` ÷ the floor's, background included; null without both figures. */
function cpuRatio(ours, floor) {
  const o = ours.cpuUsPerRequest.userRuntimeIncludingBackground;
  const f = floor.cpuUsPerRequest.userRuntimeIncludingBackground;
  return o && f ? round(o / f, 3) : null;
}

/** The same server driven with a scoped ingest key for the bench's product (created once, root token). */
async function withScopedKey(server) {
  const r = await request(server.port, "POST", "/v1/keys", {
    headers: { "content-type": "application/json", ...AUTH },
    body: JSON.stringify({ name: "bench-ingest", products: [PRODUCT], scopes: ["ingest"] }),
  });
  if (r.status !== 201) throw new Error(`POST /v1/keys answered ${r.status}: ${r.body.slice(0, 200)}`);
  return { ...server, name: `${server.name}-key`, auth: { authorization: `Bearer ${JSON.parse(r.body).key}` } };
}
