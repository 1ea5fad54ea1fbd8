// The product stream (issue 17): the same ingest load against a product with no stream subscriber
// and with 10, alternating within each round (the order rotating), on one server whose products
// all stream (DESTINATION=stream). Throughput and p99 of ingest for each, the ratios 10 ÷ 0
// (throughput) and 0 ÷ 10 (p99; both ≥ 0.95 means subscribers cost ingest at most 5 %), and,
// while 10 subscribers read, the latency from a probe batch's POST to its frame at a subscriber.
import { performance } from "node:perf_hooks";
import { request } from "../client.mjs";
import { AUTH } from "../constants.mjs";
import { cpuDelta, groupCpuMs, settle, usPerRequest } from "../cpu.mjs";
import { log } from "../log.mjs";
import { driveLoad, loadsOf, rotate, sessionsLabel, warmSessions } from "../load.mjs";
import { target } from "../results.mjs";
import { openSubscribers } from "../sseSubscribers.mjs";
import { median, percentile, round } from "../stats.mjs";

const SUBSCRIBERS = [0, 10];
/** A probe batch every this often while the load runs (its own session, so its lane is never behind the load's). */
const PROBE_EVERY_MS = 25;

export async function scenarioStream(ctx, server) {
  const { profile } = ctx;
  const product = `stream-${ctx.runId}`;
  const setup = { ...server, name: `${server.name}-p`, product };
  const loads = loadsOf(profile);
  const rounds = [];
  for (let r = 1; r <= profile.rounds; r++) {
    const roundOut = { round: r };
    for (const load of loads) {
      for (const subscribers of rotate(SUBSCRIBERS, r)) {
        log(`stream round ${r}: ${subscribers} subscriber(s), ${load.sessionCount} session(s), ${profile.ingestSeconds} s at concurrency ${profile.concurrency}`);
        const res = await streamPhase(ctx, setup, load.sessionCount, subscribers);
        const lat = res.latency ? `; POST → frame p50 ${res.latency.p50Ms} ms, p99 ${res.latency.p99Ms} ms (${res.latency.probes} probes, ${res.latency.lost} not seen)` : "";
        log(`  → ${res.rps} req/s, p99 ${res.p99Ms} ms, workerd CPU µs/req ${res.cpuUsPerRequest}; frames per subscriber ${res.framesPerSubscriber ?? "-"}, dropped ${res.dropped ?? "-"}${lat}`);
        if (res.failed > 0) ctx.results.errors.push({ scenario: `stream ${subscribers} ${load.key}`, message: `${res.failed} of ${res.requests} requests failed: ${res.firstError}` });
        (roundOut[load.key] ??= {})[subscribers] = res;
      }
    }
    rounds.push(roundOut);
  }
  const summary = {};
  for (const load of loads) {
    const s = (summary[load.key] = { sessions: load.sessionCount });
    for (const n of SUBSCRIBERS) {
      const xs = rounds.map((r) => r[load.key][n]);
      const med = (pick, d = 2) => round(median(xs.map(pick)), d);
      s[n] = { subscribers: n, rps: med((x) => x.rps, 1), p50Ms: med((x) => x.p50Ms), p99Ms: med((x) => x.p99Ms), cpuUsPerRequest: med((x) => x.cpuUsPerRequest, 0), failed: xs.reduce((a, x) => a + x.failed, 0) };
      if (n > 0) {
        s[n].latencyP50Ms = med((x) => x.latency.p50Ms);
        s[n].latencyP99Ms = med((x) => x.latency.p99Ms);
        s[n].probes = xs.reduce((a, x) => a + x.latency.probes, 0);
        s[n].probesLost = xs.reduce((a, x) => a + x.latency.lost, 0);
        s[n].dropped = xs.reduce((a, x) => a + x.dropped, 0);
      }
    }
    s.perRound = rounds.map((r) => {
      const [none, ten] = [r[load.key][0], r[load.key][10]];
      return { throughput: round(ten.rps / none.rps, 3), p99: round(none.p99Ms / ten.p99Ms, 3), cpuPerRequest: none.cpuUsPerRequest && ten.cpuUsPerRequest ? round(ten.cpuUsPerRequest / none.cpuUsPerRequest, 3) : null };
    });
    s.ratio = Object.fromEntries(["throughput", "p99", "cpuPerRequest"].map((k) => [k, round(median(s.perRound.map((q) => q[k])), 3)]));
    const label = sessionsLabel(load.sessionCount);
    target(ctx.results, `stream: 10 subscribers ÷ none, ingest throughput (${label})`, s.ratio.throughput, "≥ 0.95", s.ratio.throughput === null ? null : s.ratio.throughput >= 0.95);
    target(ctx.results, `stream: none ÷ 10 subscribers, ingest p99 (${label})`, s.ratio.p99, "≥ 0.95", s.ratio.p99 === null ? null : s.ratio.p99 >= 0.95);
  }
  return { summary, rounds };
}

/** One measured phase: warm sessions, settle, `subscribers` connected, the load with probes, drained. */
async function streamPhase(ctx, setup, sessionCount, subscribers) {
  const { settleMaxMs } = ctx.profile;
  const { sessions } = await warmSessions(ctx, setup, sessionCount);
  await settle(setup, settleMaxMs);
  const sent = new Map();
  const subs = subscribers > 0 ? await openSubscribers(setup.port, setup.product, subscribers) : null;
  const wallMs = () => performance.timeOrigin + performance.now();
  let probing = subscribers > 0;
  // Unique per phase: a batch with the same content as an earlier one would be deduplicated (never streamed).
  const phase = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const probes = (async () => {
    for (let i = 0; probing; i++) {
      const title = `probe ${phase} ${i}`;
      sent.set(title, wallMs());
      const body = JSON.stringify({ type: "actions", product_id: setup.product, session_id: `probe-${ctx.runId}-${sessionCount}`, actions: [{ title, description: title, canonical_url: "https://app.example.com/probe" }] });
      const r = await request(setup.port, "POST", "/v1/actions", { headers: { "content-type": "application/json", ...AUTH }, body });
      if (r.status !== 202) throw new Error(`probe batch answered ${r.status}: ${r.body.slice(0, 200)}`);
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  })();
  const cpu0 = groupCpuMs(setup);
  const result = await driveLoad(ctx, setup.port, sessions, { seconds: ctx.profile.ingestSeconds, product: setup.product });
  probing = false;
  await probes;
  const cpuLoad = cpuDelta(cpu0, groupCpuMs(setup));
  await settle(setup, settleMaxMs);
  const report = subs ? await subs.report() : { counts: [], seen: [] };
  await subs?.close();
  const seen = new Map(report.seen);
  const latencies = [...sent].filter(([t]) => seen.has(t)).map(([t, at]) => seen.get(t) - at).sort((a, b) => a - b);
  const frames = report.counts.map((c) => c.message);
  const dropped = report.counts.reduce((a, c) => a + (c.dropped ?? 0), 0);
  return {
    ...result,
    subscribers,
    // The server's own CPU (workerd: the Worker, the session actors, the hub) per ingest request, the subscribers' reading included.
    cpuUsPerRequest: usPerRequest(cpuLoad.workerdUser, result.ok),
    ...(subscribers > 0 && {
      framesPerSubscriber: Math.min(...frames),
      dropped,
      latency: { probes: sent.size, lost: sent.size - latencies.length, p50Ms: round(percentile(latencies, 0.5)), p99Ms: round(percentile(latencies, 0.99)) },
    }),
  };
}
