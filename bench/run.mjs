#!/usr/bin/env node
// Context Relay benchmark driver (issue 6). Plain Node ESM, no dependencies beyond the project's.
//
//   npm run bench                 full run (about 15 minutes on 2 cores)
//   npm run bench -- --quick      tiny run (CI: checks that it runs and writes its file)
//   npm run bench -- --only ingest,bundle --rounds 1
//
// Starts, on 127.0.0.1 only: the fakes (bench/fakes.mjs, a child process), our Worker and the
// floor Worker (bench/floor) through `npx wrangler dev --local`, each from an empty state folder,
// drives load with a fixed concurrency pool, tears everything down (process groups, also on error
// or Ctrl-C) and writes bench/results/latest.json and bench/results/latest.md.
//
// Scenarios (bench/scenarios/): ingest (1 and N sessions; our whole pipeline, and our ingest path
// alone), floor (same load, ratios), isolation (slow destination / slow LLM), coalescing
// (DEBOUNCE_MS=200), long session (K=10), burst (10,000 actions against a 300 ms LLM), price (exact
// counts per million actions, priced, per destination and debounce, and the floor), idle week
// (alarms per idle session, simulated in Node), bundle size, a user's activity (get_live_user_activity
// over MCP and REST for a user with 10 sessions); and, only with --only fanout, fan-out
// (the same ingest load against a product with one webhook and one with two, ratio two ÷ one); and,
// only with --only stream, the product stream (ingest with 0 and 10 SSE subscribers, ratios, and
// POST → frame latency). Exit code: 0 when every scenario ran
// (targets missed or not), 1 when a scenario failed (a server did not start, requests failed),
// 2 on bad options.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { closeClient } from "./client.mjs";
import { ROOT } from "./constants.mjs";
import { settle } from "./cpu.mjs";
import { log } from "./log.mjs";
import { parseOptions, USAGE } from "./options.mjs";
import { killAll, killAllNow } from "./processes.mjs";
import { writeReport } from "./report.mjs";
import { createResults, recordError } from "./results.mjs";
import { scenarioBurst } from "./scenarios/burst.mjs";
import { scenarioCoalescing } from "./scenarios/coalescing.mjs";
import { scenarioFanout } from "./scenarios/fanout.mjs";
import { scenarioIdle } from "./scenarios/idle.mjs";
import { scenarioIngest } from "./scenarios/ingest.mjs";
import { scenarioIsolation } from "./scenarios/isolation.mjs";
import { scenarioLong } from "./scenarios/long.mjs";
import { scenarioPrice } from "./scenarios/price.mjs";
import { scenarioUserActivity } from "./scenarios/userActivity.mjs";
import { scenarioStream } from "./scenarios/stream.mjs";
import { startServers, stopServer } from "./servers.mjs";
import { round } from "./stats.mjs";

const { argv, only, profile, problem } = parseOptions(process.argv.slice(2));
if (argv.help) {
  console.log(USAGE);
  process.exit(0);
}
if (problem) {
  console.error(`bench: ${problem}`);
  process.exit(2);
}

const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const ctx = {
  argv,
  only,
  profile,
  runId,
  // "ours" is the project's wrangler.toml unless --ours-config names another (to compare a branch,
  // or to exercise this driver before the real worker exists).
  oursConfig: argv["ours-config"] ? path.resolve(argv["ours-config"]) : null,
  outDir: path.resolve(ROOT, argv.out ?? "bench/results"),
  tmp: fs.mkdtempSync(path.join(os.tmpdir(), "context-relay-bench-")),
  results: createResults({ runId, command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim().replace(/ --$/, ""), profile }),
};
const { results } = ctx;
// The whole run is bounded: a hung step cannot keep it alive forever.
const RUN_DEADLINE_MS = argv.quick ? 6 * 60_000 : 60 * 60_000;

process.on("exit", killAllNow);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    log(`${sig}: stopping children, writing what was measured so far`);
    results.errors.push({ scenario: "run", message: `interrupted by ${sig}` });
    finish(130);
  });
}

/** Runs one scenario; a failure is recorded (and `onError` gets it) instead of ending the run. */
async function runScenario(name, fn, onError) {
  try {
    return await fn();
  } catch (err) {
    recordError(results, name, err);
    onError?.(err);
    return undefined;
  }
}

async function main() {
  const started = performance.now();
  log(`profile ${profile.name}; scenarios ${[...only].join(", ")}; tmp ${ctx.tmp}`);
  log(`machine: ${results.machine.cores} cores, Node ${results.machine.node}, workerd ${results.machine.workerd}, wrangler ${results.machine.wrangler}, load ${results.machine.loadavgAtStart.join(" ")}`);
  // Everything that only costs start-up time runs at once: bundling and every server's start.
  // Measurements begin only after all of it is done.
  const { fakes, source, bundle, ours, oursStore, oursIngestOnly, floor, floorSummary, coalescing, burst, priced, fanout, stream } = await startServers(ctx);
  if (source) results.source = source;
  if (bundle) results.scenarios.bundle = bundle;
  const startup = { ours, oursStore, oursIngestOnly, floor, floorSummary, coalescing, fanout, stream, burstStore: burst.store, burstWebhook: burst.webhook, ...Object.fromEntries(Object.values(priced).map((s) => [s.name, s])) };
  results.scenarios.startupMs = Object.fromEntries(Object.entries(startup).filter(([, v]) => v).map(([k, v]) => [k, v.startupMs]));

  if (ours && only.has("long")) {
    await runScenario(
      "long",
      async () => {
        const l = (results.scenarios.long = await scenarioLong(ctx, ours, fakes));
        log(`long session: ${l.llmCalls} LLM calls (expected ${l.expectedLlmCalls}), ${l.storageRows} rows, prompt max ${l.promptChars.maxFirst10pct} → ${l.promptChars.maxLast10pct} chars, drained in ${l.quiescence.drainSeconds} s (${l.quiescence.by})`);
        await settle(ours, profile.settleMaxMs);
      },
      (err) => (results.scenarios.long = { error: String(err.message ?? err) }),
    );
  }

  for (const [label, server] of Object.entries(burst)) {
    if (!server) continue;
    await runScenario(`burst (${label})`, async () => {
      const b = ((results.scenarios.burst ??= {})[label] = await scenarioBurst(ctx, server, fakes, label));
      log(`burst (${label}): ${b.llmCalls} LLM calls (≤ ${b.maxLlmCalls}), peak ${b.peakRows} rows, drained in ${b.drainS} s, covered: ${b.covered.ok}`);
    });
    await stopServer(results, server);
  }

  if (only.has("price") && Object.keys(priced).length) {
    const servers = { ...priced, floor };
    const stop = (server) => (server === floor ? settle(floor, profile.settleMaxMs) : stopServer(results, server));
    await runScenario("price", async () => (results.scenarios.price = await scenarioPrice(ctx, servers, fakes, stop)));
  }

  const ingestServers = { ours: only.has("ingest") ? oursStore : null, oursIngestOnly, floor: only.has("floor") ? floor : null, floorSummary };
  if (Object.values(ingestServers).some(Boolean)) {
    await runScenario("ingest", async () => (results.scenarios.ingest = await scenarioIngest(ctx, ingestServers)));
  }
  if (oursStore && only.has("userActivity")) {
    await runScenario("userActivity", async () => (results.scenarios.userActivity = await scenarioUserActivity(ctx, oursStore)));
  }
  await stopServer(results, floor);
  await stopServer(results, floorSummary);
  await stopServer(results, oursStore);
  await stopServer(results, oursIngestOnly);

  if (fanout) await runScenario("fanout", async () => (results.scenarios.fanout = await scenarioFanout(ctx, fanout, fakes)));
  await stopServer(results, fanout);

  if (stream) await runScenario("stream", async () => (results.scenarios.stream = await scenarioStream(ctx, stream)));
  await stopServer(results, stream);

  if (ours && only.has("isolation")) {
    await runScenario("isolation", async () => (results.scenarios.isolation = await scenarioIsolation(ctx, ours, fakes)));
  }
  await stopServer(results, ours);

  if (coalescing) {
    await runScenario("coalescing", async () => (results.scenarios.coalescing = await scenarioCoalescing(ctx, coalescing, fakes)));
  }
  await stopServer(results, coalescing);

  if (only.has("idle")) await runScenario("idle", async () => (results.scenarios.idle = await scenarioIdle(ctx)));

  results.durationS = round((performance.now() - started) / 1000, 1);
  results.machine.loadavgAtEnd = os.loadavg().map((x) => round(x, 2));
}

const watchdog = setTimeout(() => {
  log(`run exceeded ${RUN_DEADLINE_MS / 1000} s: stopping`);
  results.errors.push({ scenario: "run", message: `exceeded ${RUN_DEADLINE_MS / 1000} s` });
  finish(3);
}, RUN_DEADLINE_MS);
watchdog.unref();

let finishing = false;
/** Kills every child group, writes the report and exits (1 when any error was recorded). */
async function finish(code) {
  if (finishing) return;
  finishing = true;
  await killAll();
  closeClient();
  results.finishedAt = new Date().toISOString();
  writeReport(results, ctx.outDir);
  if (argv.keep || code !== 0 || results.errors.length) log(`logs kept in ${ctx.tmp}`);
  else fs.rmSync(ctx.tmp, { recursive: true, force: true });
  process.exit(code || (results.errors.length ? 1 : 0));
}

main()
  .then(() => finish(0))
  .catch((err) => {
    recordError(results, "run", err);
    finish(1);
  });
