// Fan-out (issue 12): the same ingest load against a product with one webhook and a product with two
// (each destination its own lane), on one server, the order rotating every round. Throughput, p99
// and CPU per batch for each, the ratio two ÷ one (the median of per-round ratios), and what each
// destination received once the phase drained: raw notes, summaries and redactions per webhook, and
// the LLM calls (one per window, shared by the lanes).
import { request } from "../client.mjs";
import { AUTH, HOST } from "../constants.mjs";
import { cpuDelta, groupCpuMs, settle, usPerRequest } from "../cpu.mjs";
import { log } from "../log.mjs";
import { driveLoad, loadsOf, rotate, sessionsLabel, warmSessions } from "../load.mjs";
import { target } from "../results.mjs";
import { median, round } from "../stats.mjs";

const HOOK_PREFIX = "/hook/";
/** Each setup's webhooks, as paths under HOOK_PREFIX on the destination fake. */
const SETUPS = { one: ["one"], two: ["two-a", "two-b"] };
const KINDS = ["raw", "summary", "redact"];

/** Gives `product` one webhook destination per hook, all on the destination fake, signed with the bench's secret. */
async function configureProduct(server, fakes, product, hooks) {
  const destinations = hooks.map((h) => ({ type: "webhook", url: `http://${HOST}:${fakes.ports.destination}${HOOK_PREFIX}${h}`, secret: { env: "WEBHOOK_SECRET" } }));
  const r = await request(server.port, "PUT", `/v1/products/${product}`, {
    headers: { "content-type": "application/json", ...AUTH },
    body: JSON.stringify({ destinations }),
  });
  if (r.status !== 200) throw new Error(`PUT /v1/products/${product} answered ${r.status}: ${r.body.slice(0, 300)}`);
}

export async function scenarioFanout(ctx, server, fakes) {
  const { profile } = ctx;
  const setups = {};
  for (const [key, hooks] of Object.entries(SETUPS)) {
    const product = `fanout-${key}-${ctx.runId}`;
    await configureProduct(server, fakes, product, hooks);
    // Its own warm session set (warmSessions keys on the name) in its own product.
    setups[key] = { ...server, name: `${server.name}-${key}`, product, hooks };
  }
  const loads = loadsOf(profile);
  const rounds = [];
  for (let r = 1; r <= profile.rounds; r++) {
    const roundOut = { round: r };
    for (const load of loads) {
      for (const key of rotate(Object.keys(SETUPS), r)) {
        log(`fanout round ${r}: ${SETUPS[key].length} webhook(s), ${load.sessionCount} session(s), ${profile.ingestSeconds} s at concurrency ${profile.concurrency}`);
        const res = await fanoutPhase(ctx, setups[key], fakes, load.sessionCount);
        const per = Object.entries(res.deliveries).map(([hook, d]) => `${hook} ${d.raw}/${d.summary}/${d.redact}`).join(", ");
        log(`  → ${res.rps} req/s, p99 ${res.p99Ms} ms, runtime CPU µs/req ${res.cpuUsPerRequest.duringLoad} / ${res.cpuUsPerRequest.includingBackground} with background; raw/summary/redact: ${per}; LLM calls ${res.llmCalls}`);
        if (res.failed > 0) ctx.results.errors.push({ scenario: `fanout ${key} ${load.key}`, message: `${res.failed} of ${res.requests} requests failed: ${res.firstError}` });
        (roundOut[load.key] ??= {})[key] = res;
      }
    }
    rounds.push(roundOut);
  }
  const summary = {};
  for (const load of loads) {
    const s = (summary[load.key] = { sessions: load.sessionCount });
    for (const key of Object.keys(SETUPS)) {
      const xs = rounds.map((r) => r[load.key][key]);
      const med = (pick, d = 2) => round(median(xs.map(pick)), d);
      const deliveries = Object.fromEntries(SETUPS[key].map((h) => [h, Object.fromEntries(KINDS.map((k) => [k, median(xs.map((x) => x.deliveries[h][k]))]))]));
      s[key] = {
        destinations: SETUPS[key].length,
        rps: med((x) => x.rps, 1),
        actionsPerS: med((x) => x.actionsPerS, 1),
        p50Ms: med((x) => x.p50Ms),
        p99Ms: med((x) => x.p99Ms),
        cpuUsPerRequestDuringLoad: med((x) => x.cpuUsPerRequest.duringLoad, 0),
        cpuUsPerRequest: med((x) => x.cpuUsPerRequest.includingBackground, 0),
        deliveries,
        llmCalls: median(xs.map((x) => x.llmCalls)),
        failed: xs.reduce((a, x) => a + x.failed, 0),
      };
    }
    const cpu = (x) => x.cpuUsPerRequest.includingBackground;
    s.perRound = rounds.map((r) => {
      const [one, two] = [r[load.key].one, r[load.key].two];
      return { throughput: round(two.rps / one.rps, 3), p99: round(two.p99Ms / one.p99Ms, 3), cpuPerBatch: cpu(one) && cpu(two) ? round(cpu(two) / cpu(one), 3) : null };
    });
    s.ratio = Object.fromEntries(["throughput", "p99", "cpuPerBatch"].map((k) => [k, round(median(s.perRound.map((q) => q[k])), 3)]));
    const label = sessionsLabel(load.sessionCount);
    // Ingest only writes and arms the alarm: a second lane is background work, not ingest latency.
    target(ctx.results, `fan-out: two webhooks ÷ one, throughput (${label})`, s.ratio.throughput, "≥ 0.85", s.ratio.throughput === null ? null : s.ratio.throughput >= 0.85);
    target(ctx.results, `fan-out: two webhooks ÷ one, p99 (${label})`, s.ratio.p99, "≤ 1.2", s.ratio.p99 === null ? null : s.ratio.p99 <= 1.2);
  }
  return { setups: SETUPS, summary, rounds };
}

/** One measured phase: warm-up, settle, counters reset, the load, drained, then what each webhook received. */
async function fanoutPhase(ctx, setup, fakes, sessionCount) {
  const { settleMaxMs } = ctx.profile;
  const { sessions } = await warmSessions(ctx, setup, sessionCount);
  const settleBefore = await settle(setup, settleMaxMs);
  await fakes.reset();
  const cpu0 = groupCpuMs(setup);
  const result = await driveLoad(ctx, setup.port, sessions, { seconds: ctx.profile.ingestSeconds, auth: setup.auth, product: setup.product });
  const cpuLoad = cpuDelta(cpu0, groupCpuMs(setup));
  const settleAfter = await settle(setup, settleMaxMs);
  const cpuAll = cpuDelta(cpu0, groupCpuMs(setup));
  const deliveries = Object.fromEntries(setup.hooks.map((h) => [h, Object.fromEntries(KINDS.map((k) => [k, 0]))]));
  for (const rec of await fakes.records("destination")) {
    const hook = rec.path.startsWith(HOOK_PREFIX) ? deliveries[rec.path.slice(HOOK_PREFIX.length)] : undefined;
    if (hook && rec.kind in hook) hook[rec.kind] += 1;
  }
  const llmCalls = (await fakes.stats("llm")).calls;
  return {
    ...result,
    sessions: sessionCount,
    settleBefore,
    settleAfter,
    cpuUsPerRequest: { duringLoad: usPerRequest(cpuLoad.workerdUser, result.ok), includingBackground: usPerRequest(cpuAll.workerdUser, result.ok) },
    deliveries,
    llmCalls,
  };
}
