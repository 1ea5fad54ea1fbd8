// A probe, not a scenario: where one batch's CPU goes, by SQL statement, for sessions whose actors
// are warm or were evicted (local workerd evicts an actor idle for ~10 s). It starts our worker
// (store destination, the LLM fake, METER=on) from an empty state folder, touches N sessions once,
// then runs passes of one batch per session and prints, per batch: workerd CPU, statements, rows,
// alarms, RPCs by method and the statements by SQL text (src/meter.ts).
//
//   npx node bench/probes/statements.mjs            # 300 warm sessions: close, open, close a window
//   N=300 IDLE_MS=15000 npx node bench/probes/statements.mjs   # every pass finds its actors evicted
//   VARS='{"MEMORY":"off"}' TOP=10 npx node bench/probes/statements.mjs
//
// K=10 and 5 actions a batch, so passes alternate between closing and opening a window.
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { drive } from "../client.mjs";
import { API_TOKEN, HOST } from "../constants.mjs";
import { cpuDelta, groupCpuMs, settle } from "../cpu.mjs";
import { startFakes } from "../fakesProcess.mjs";
import { quietMeter, resetMeter } from "../meterClient.mjs";
import { killAll } from "../processes.mjs";
import { startWorker } from "../wrangler.mjs";

const N = Number(process.env.N ?? 300);
const IDLE_MS = Number(process.env.IDLE_MS ?? 2_000);
const TOP = Number(process.env.TOP ?? 25);
const PASSES = ["closes its window", "opens a window", "closes its window"];

const tmp = fs.mkdtempSync("/tmp/statements-probe-");
try {
  const fakes = await startFakes(tmp);
  const vars = {
    API_TOKEN,
    DESTINATION: "store",
    LLM_BASE_URL: `http://${HOST}:${fakes.ports.llm}/v1`,
    LLM_API_KEY: "probe",
    LLM_MODEL: "probe",
    SUMMARY_THRESHOLD: "10",
    DEBOUNCE_MS: "0",
    LOG_LEVEL: "warn",
    METER: "on",
    ...JSON.parse(process.env.VARS ?? "{}"),
  };
  const server = await startWorker("probe", { vars }, { tmp, startupMaxMs: 60_000 });
  const sessions = Array.from({ length: N }, (_, i) => `probe-${i}`);
  const runId = `probe-${Date.now()}`;
  const onePerSession = () => drive(server.port, { runId, sessions, maxRequests: N, seconds: 120, concurrency: 16, actionsPerBatch: 5 });
  await onePerSession();
  await settle(server, 30_000);
  for (const pass of PASSES) {
    await sleep(IDLE_MS);
    await resetMeter(server.port);
    const before = groupCpuMs(server);
    const load = await onePerSession();
    await settle(server, 30_000);
    const { meter } = await quietMeter(server.port, { quietMs: 1_000 });
    const cpu = cpuDelta(before, groupCpuMs(server));
    const per = (x) => (x / load.ok).toFixed(2);
    console.log(`\n== a batch that ${pass} (${load.ok} of ${N} accepted, after ${IDLE_MS} ms idle)`);
    console.log(`workerd CPU ${Math.round((cpu.workerdUser * 1000) / load.ok)} µs, statements ${per(meter.storage.sql_statements)}, rows read ${per(meter.storage.rows_read)} / written ${per(meter.storage.rows_written)}, alarms ${per(meter.do_requests.alarms)}`);
    console.log(`RPCs: ${Object.entries(meter.do_requests.rpc_by_method).map(([k, v]) => `${k} ${per(v)}`).join(", ")}`);
    const byRuns = Object.entries(meter.storage.by_statement).sort((a, b) => b[1].runs - a[1].runs);
    for (const [sql, s] of byRuns.slice(0, TOP)) console.log(`${per(s.runs).padStart(6)} ${sql}`);
  }
} finally {
  await killAll();
}
