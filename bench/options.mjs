// Command-line options and the load profile they select (quick for CI, full for the figures).
import { parseArgs } from "node:util";

export const SCENARIOS = ["ingest", "floor", "isolation", "coalescing", "long", "burst", "price", "idle", "bundle", "userActivity"];
/** Run only when named in --only: fanout (12 phases of the ingest load) and stream (12 too) would each add about 4 minutes to a full run. */
export const OPT_IN_SCENARIOS = ["fanout", "stream"];
const KNOWN = [...SCENARIOS, ...OPT_IN_SCENARIOS];

export const USAGE = `usage: npm run bench -- [--quick] [--only ingest,floor,isolation,coalescing,long,burst,price,idle,bundle,userActivity,fanout,stream]
  [--rounds N] [--concurrency N] [--seconds S] [--sessions N] [--actions-per-batch N]
  [--long-actions N] [--out DIR] [--ours-config wrangler.toml] [--ref GIT-REF] [--keep] [--logs] [--profile]
Without --only every scenario runs except fanout (one webhook vs two per product) and stream
  (0 vs 10 SSE subscribers per product), which run only when named.
--ours-config runs "ours" from another wrangler config (default: the project's wrangler.toml).
--ref GIT-REF benchmarks our worker as committed at GIT-REF (default: the working tree, frozen
  into one bundle at the start of the run).
--profile records a V8 CPU profile of our worker during round 1 of the ingest phases (through
  wrangler's inspector): bench/results/profiles/<worker>-<load>.cpuprofile (open in Chrome
  DevTools) plus the hottest functions in the JSON. Profiling slows the worker, and workerd does not
  mark its idle time, so samples taken while the isolate waits are charged to the last JS frame:
  use it to find candidates, then confirm with the CPU µs/request figures.
--logs keeps our worker's per-step log lines (default: LOG_LEVEL=warn; under wrangler dev each
  console.log line costs ~2 ms of wrangler's Node CPU and ~1 ms of workerd CPU, which production
  does not pay).`;

/**
 * Parses `args` (throws on an unknown flag, as node:util's parseArgs does). `problem` is the first
 * bad value found, or null; `argv.help` is to be honoured before it.
 */
export function parseOptions(args) {
  const { values: argv } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      rounds: { type: "string" },
      concurrency: { type: "string" },
      seconds: { type: "string" },
      sessions: { type: "string" },
      "actions-per-batch": { type: "string" },
      "long-actions": { type: "string" },
      out: { type: "string" },
      "ours-config": { type: "string" },
      ref: { type: "string" },
      keep: { type: "boolean", default: false },
      logs: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  const only = new Set(argv.only ? argv.only.split(",").map((s) => s.trim()).filter(Boolean) : SCENARIOS);
  const unknown = [...only].find((s) => !KNOWN.includes(s));
  const profile = profileFor(argv);
  const bad = Object.entries(profile).find(([, v]) => typeof v === "number" && !(Number.isFinite(v) && v > 0));
  const problem = unknown
    ? `unknown scenario "${unknown}" (known: ${KNOWN.join(", ")})`
    : bad
      ? `option ${bad[0]} must be a positive number`
      : null;
  return { argv, only, profile, problem };
}

function profileFor(argv) {
  const pick = (quick, full) => (argv.quick ? quick : full);
  const num = (v, fallback) => (v === undefined ? fallback : Number(v));
  return {
    name: pick("quick", "full"),
    rounds: num(argv.rounds, pick(1, 3)),
    concurrency: num(argv.concurrency, 16),
    ingestSeconds: num(argv.seconds, pick(1.5, 8)),
    maxRequestsPerPhase: pick(5_000, 200_000),
    manySessions: num(argv.sessions, pick(50, 1_000)),
    warmupSeconds: pick(0.5, 1.5),
    settleMaxMs: pick(5_000, 45_000),
    isolationSeconds: pick(1.5, 5),
    isolationDestMs: 500,
    isolationLlmMs: 3_000,
    coalesceReps: pick(1, 5),
    longActions: num(argv["long-actions"], pick(200, 10_000)),
    longWaitMaxMs: pick(45_000, 600_000),
    // price: sessions × windows of two 5-action batches, each configuration on its own server.
    priceSessions: pick(4, 20),
    priceWindows: pick(6, 50),
    priceDrainMaxMs: pick(30_000, 120_000),
    // burst: one session, actions sent as fast as accepted, the LLM answering after burstLlmMs.
    burstActions: pick(300, 10_000),
    burstLlmMs: 300,
    burstWaitMaxMs: pick(90_000, 600_000),
    // idle: sessions simulated over a week (plain Node, test/core/idleWeek.test.ts).
    idleSessions: pick(20, 1_000),
    // userActivity: sequential get_live_user_activity calls (MCP and REST) for a user with 10 sessions.
    userActivityRequests: pick(30, 300),
    actionsPerBatch: num(argv["actions-per-batch"], 5),
    startupMaxMs: pick(60_000, 120_000),
    threshold: 10,
    workerLogs: argv.logs ? "worker default" : "LOG_LEVEL=warn",
  };
}
