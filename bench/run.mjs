#!/usr/bin/env node
// Context Relay benchmark driver (issue 6). Plain Node ESM, no dependencies beyond the project's.
//
//   npm run bench                 full run (about 15 minutes on 2 cores)
//   npm run bench -- --quick      tiny run (CI: checks that it runs and writes its file)
//   npm run bench -- --only ingest,bundle --rounds 1
//
// Starts, on 127.0.0.1 only: the fakes (bench/fakes.mjs, a child process), our Worker and the
// floor Worker (bench/floor) through `npx wrangler dev --local`, drives load with a fixed
// concurrency pool, tears everything down (process groups, also on error or Ctrl-C) and writes
// bench/results/latest.json and bench/results/latest.md.
//
// Scenarios: ingest (1 and N sessions; our whole pipeline, and our ingest path alone), floor
// (same load, ratios), isolation (slow destination / slow LLM), coalescing (DEBOUNCE_MS=200),
// long session (K=10), bundle size. Exit code: 0 when every scenario ran (targets missed or not),
// 1 when a scenario failed (a server did not start, requests failed), 2 on bad options.
/* global WebSocket */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import zlib from "node:zlib";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const HOST = "127.0.0.1";
const API_TOKEN = "bench-token";
const PRODUCT = "bench";

// ---------------------------------------------------------------------------------------------
// Options and profiles

const { values: argv } = parseArgs({
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

if (argv.help) {
  console.log(`usage: npm run bench -- [--quick] [--only ingest,floor,isolation,coalescing,long,bundle]
  [--rounds N] [--concurrency N] [--seconds S] [--sessions N] [--actions-per-batch N]
  [--long-actions N] [--out DIR] [--ours-config wrangler.toml] [--ref GIT-REF] [--keep] [--logs] [--profile]
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
  does not pay).`);
  process.exit(0);
}

const ALL = ["ingest", "floor", "isolation", "coalescing", "long", "bundle"];
const only = new Set(argv.only ? argv.only.split(",").map((s) => s.trim()).filter(Boolean) : ALL);
for (const s of only) if (!ALL.includes(s)) die(`unknown scenario "${s}" (known: ${ALL.join(", ")})`);

const num = (v, fallback) => (v === undefined ? fallback : Number(v));
const PROFILE = argv.quick
  ? {
      name: "quick",
      rounds: 1,
      concurrency: 16,
      ingestSeconds: 1.5,
      maxRequestsPerPhase: 5_000,
      manySessions: 50,
      warmupSeconds: 0.5,
      settleMaxMs: 5_000,
      isolationSeconds: 1.5,
      isolationDestMs: 500,
      isolationLlmMs: 3_000,
      coalesceReps: 1,
      longActions: 200,
      longWaitMaxMs: 45_000,
      actionsPerBatch: 5,
      startupMaxMs: 60_000,
    }
  : {
      name: "full",
      rounds: 3,
      concurrency: 16,
      ingestSeconds: 8,
      maxRequestsPerPhase: 200_000,
      manySessions: 1_000,
      warmupSeconds: 1.5,
      settleMaxMs: 45_000,
      isolationSeconds: 5,
      isolationDestMs: 500,
      isolationLlmMs: 3_000,
      coalesceReps: 5,
      longActions: 10_000,
      longWaitMaxMs: 600_000,
      actionsPerBatch: 5,
      startupMaxMs: 120_000,
    };
PROFILE.rounds = num(argv.rounds, PROFILE.rounds);
PROFILE.concurrency = num(argv.concurrency, PROFILE.concurrency);
PROFILE.ingestSeconds = num(argv.seconds, PROFILE.ingestSeconds);
PROFILE.manySessions = num(argv.sessions, PROFILE.manySessions);
PROFILE.actionsPerBatch = num(argv["actions-per-batch"], PROFILE.actionsPerBatch);
PROFILE.longActions = num(argv["long-actions"], PROFILE.longActions);
PROFILE.threshold = 10;
PROFILE.workerLogs = argv.logs ? "worker default" : "LOG_LEVEL=warn";
for (const [k, v] of Object.entries(PROFILE)) {
  if (typeof v === "number" && !(Number.isFinite(v) && v > 0)) die(`option ${k} must be a positive number`);
}

// "ours" is the project's wrangler.toml unless --ours-config names another (to compare a branch, or
// to exercise this driver before the real worker exists).
const OURS_CONFIG = argv["ours-config"] ? path.resolve(argv["ours-config"]) : null;
const OURS_ENTRY = OURS_CONFIG ? OURS_CONFIG : path.join(ROOT, "src/worker.ts");
const OUT_DIR = path.resolve(ROOT, argv.out ?? "bench/results");
const RUN_ID = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "context-relay-bench-"));
// The whole run is bounded: a hung step cannot keep it alive forever.
const RUN_DEADLINE_MS = argv.quick ? 6 * 60_000 : 60 * 60_000;

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
function log(...args) {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Child processes: every child gets its own process group, killed as a group at the end.

const children = new Set();

function childEnv() {
  // node_modules/.bin first: `npx`/wrangler then run on the Node 22 from the `node` devDependency.
  return {
    ...process.env,
    PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    // Dev-only features that cost CPU per request and do not exist in production: trace capture
    // for the Local Explorer, and the explorer itself.
    X_LOCAL_OBSERVABILITY: "false",
    X_LOCAL_EXPLORER: "false",
    CI: process.env.CI ?? "1",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
}

function spawnGroup(name, cmd, args, { logFile, stdin = "ignore", cwd = ROOT } = {}) {
  const out = logFile ? fs.openSync(logFile, "a") : "ignore";
  const child = spawn(cmd, args, { cwd, env: childEnv(), detached: true, stdio: [stdin, logFile ? out : "pipe", logFile ? out : "pipe"] });
  if (logFile) fs.closeSync(out);
  child.benchName = name;
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.once("error", (err) => log(`${name}: ${err.message}`));
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

async function killGroup(child, graceMs = 5_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    // The leader is gone; members of its group may not be.
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* no such group */
    }
    return;
  }
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  try {
    process.kill(-child.pid, "SIGKILL"); // stragglers (workerd) even when the leader exited
  } catch {
    /* group empty */
  }
  if (!done) await Promise.race([child.exited, sleep(2_000)]);
}

async function killAll() {
  await Promise.all([...children].map((c) => killGroup(c)));
}

process.on("exit", () => {
  for (const c of children) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    log(`${sig}: stopping children, writing what was measured so far`);
    results.errors.push({ scenario: "run", message: `interrupted by ${sig}` });
    // finish() is defined below; it kills every child group first, then writes the files.
    finish(130);
  });
}

// Ports for our servers come from below the kernel's ephemeral range, so no process binding port 0
// (workerd's internal sockets, the fakes, other tests on this machine) can take one between our
// check and wrangler's bind. Each port is used once per run.
const usedPorts = new Set();
const EPHEMERAL_LOW = (() => {
  try {
    return Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();
function canBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}
async function freePort() {
  const lo = 20_000;
  const hi = Math.max(lo + 1_000, Math.min(EPHEMERAL_LOW, 32_768) - 1);
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (usedPorts.has(port)) continue;
    usedPorts.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port found in ${lo}-${hi}`);
}

// CPU time (ms) used by the processes of a server's group, from /proc (Linux; {} elsewhere).
// wrangler dev runs two workerd processes: a proxy bound to the dev port (wrangler's ProxyWorker)
// and the runtime that runs the user's Worker and Durable Objects. They are reported apart, plus
// `workerd` (both) and `node` (wrangler itself).
const CLK_TCK = 100;
const roleCache = new Map();
function groupCpuMs(server) {
  const byName = {};
  let entries;
  try {
    entries = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return byName;
  }
  for (const pid of entries) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // fields[0] is field 3 (state), so field n is fields[n - 3]
    if (Number(fields[5 - 3]) !== server.pgid) continue;
    const ms = ((Number(fields[14 - 3]) + Number(fields[15 - 3])) * 1000) / CLK_TCK;
    let key = comm.startsWith("node") || comm.startsWith("npm") ? "node" : comm;
    if (comm.startsWith("workerd")) {
      const cacheKey = `${server.pgid}:${pid}`;
      let role = roleCache.get(cacheKey);
      if (!role) {
        let cmd = "";
        try {
          cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        } catch {
          /* gone */
        }
        role = cmd.includes(`entry=${HOST}:${server.port}`) ? "workerdProxy" : "workerdUser";
        roleCache.set(cacheKey, role);
      }
      key = role;
      byName.workerd = (byName.workerd ?? 0) + ms;
    }
    byName[key] = (byName[key] ?? 0) + ms;
  }
  return byName;
}
const cpuDelta = (a, b) => {
  const out = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = (b[k] ?? 0) - (a[k] ?? 0);
  return out;
};

// ---------------------------------------------------------------------------------------------
// HTTP client: node:http with a keep-alive pool (less client CPU per request than fetch, which
// matters when the driver shares 2 cores with workerd). Every request has a timeout.

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, keepAliveMsecs: 10_000 });

function request(port, method, urlPath, { headers = {}, body, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port, method, path: urlPath, agent, headers: body ? { "content-length": Buffer.byteLength(body), ...headers } : headers, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

async function getJson(port, urlPath, headers = {}) {
  const r = await request(port, "GET", urlPath, { headers, timeoutMs: 10_000 });
  let json = null;
  try {
    json = JSON.parse(r.body);
  } catch {
    /* not JSON */
  }
  return { status: r.status, json, body: r.body };
}
async function postJson(port, urlPath, value) {
  return request(port, "POST", urlPath, { headers: { "content-type": "application/json" }, body: JSON.stringify(value), timeoutMs: 10_000 });
}

// ---------------------------------------------------------------------------------------------
// Servers

async function startFakes() {
  const logFile = path.join(TMP, "fakes.log");
  const child = spawn(process.execPath, [path.join(HERE, "fakes.mjs")], { cwd: ROOT, detached: true, stdio: ["pipe", "pipe", fs.openSync(logFile, "a")] });
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  children.add(child);
  child.exited.then(() => children.delete(child));
  const ports = await new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("fakes did not start within 15 s")), 15_000);
    child.stdout.on("data", (c) => {
      buf += c;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (e) {
          reject(e);
        }
      }
    });
    child.exited.then(() => reject(new Error("fakes exited at startup")));
  });
  child.stdout.resume();
  const api = {
    child,
    ports,
    async config(which, cfg) {
      const r = await postJson(ports[which], "/__fake/config", cfg);
      if (r.status !== 200) throw new Error(`fake ${which} config: ${r.status}`);
    },
    async reset() {
      await postJson(ports.destination, "/__fake/reset", {});
      await postJson(ports.llm, "/__fake/reset", {});
    },
    async stats(which) {
      return (await getJson(ports[which], "/__fake/stats")).json;
    },
    async records(which) {
      return (await getJson(ports[which], "/__fake/records")).json ?? [];
    },
  };
  return api;
}

/** Starts `npx wrangler dev` for `config` and waits until GET /healthz answers 200. */
async function startWorker(name, options, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(name, options, attempt);
    } catch (err) {
      // A port taken between our check and wrangler's bind: try again on other ports.
      if (attempt >= attempts || !/already in use|EADDRINUSE/i.test(err.message)) throw err;
      log(`${name}: a port was taken (${attempt}/${attempts}); retrying on other ports`);
    }
  }
}

async function startWorkerOnce(name, { config, vars = {} }, attempt) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const logFile = path.join(TMP, attempt > 1 ? `${name}.${attempt}.log` : `${name}.log`);
  const args = ["wrangler", "dev", "--port", String(port), "--ip", HOST, "--local", "--persist-to", path.join(TMP, `${name}-state`), "--inspector-port", String(inspectorPort), "--inspector-ip", HOST, "--show-interactive-dev-session=false", "--log-level", "warn"];
  if (config) args.push("-c", config);
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawnGroup(name, "npx", args, { logFile });
  const started = performance.now();
  const deadline = started + PROFILE.startupMaxMs;
  let last = "";
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const r = await request(port, "GET", "/healthz", { timeoutMs: 3_000 });
      if (r.status === 200) {
        const startupMs = Math.round(performance.now() - started);
        log(`${name}: ready on ${HOST}:${port} after ${startupMs} ms`);
        return { name, port, inspectorPort, child, pgid: child.pid, logFile, startupMs };
      }
      last = `GET /healthz answered ${r.status}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(300);
  }
  const tail = readTail(logFile, 3_000);
  await killGroup(child);
  throw new Error(`${name} did not become ready (${last}); log tail:\n${tail}`);
}

function readTail(file, chars) {
  try {
    const s = fs.readFileSync(file, "utf8");
    return s.slice(-chars);
  } catch {
    return "(no log)";
  }
}

// ---------------------------------------------------------------------------------------------
// Load

const AUTH = { authorization: `Bearer ${API_TOKEN}` };
const T_BASE = 1_700_000_000;
let seqCounter = 0;

function makeBatch(sessionId, seq, actionsPerBatch) {
  const actions = [];
  // Fixed-width numbers: every action has the same size however long the run, so prompt sizes
  // can only grow if the service's prompts grow.
  const tag = String(seq % 10_000_000).padStart(7, "0");
  for (let k = 0; k < actionsPerBatch; k++) {
    const page = (seq + k) % 7;
    actions.push({
      title: `Clicked "Save" on settings page ${page}`,
      description: `User clicked the Save button on the integrations settings page (${tag}.${k})`,
      canonical_url: `https://app.example.com/settings/integrations/${page}`,
      raw_url: `https://app.example.com/settings/integrations/${page}?tab=general`,
      type: "click",
      index: k,
      timestamp_start: T_BASE + seq,
      timestamp_end: T_BASE + seq + 0.25,
    });
  }
  return JSON.stringify({ type: "actions", product_id: PRODUCT, session_id: sessionId, forwarded_at: T_BASE + seq, actions });
}

function sendBatch(port, sessionId, actionsPerBatch, timeoutMs = 30_000) {
  const seq = ++seqCounter;
  const body = makeBatch(sessionId, seq, actionsPerBatch);
  return request(port, "POST", "/v1/actions", {
    headers: { "content-type": "application/json", "idempotency-key": `${RUN_ID}-${seq}`, ...AUTH },
    body,
    timeoutMs,
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}
const round = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Drives POST /v1/actions with `concurrency` workers until `seconds` pass or `maxRequests` are
 * sent, round-robin over `sessions`. Returns throughput and latency of that window.
 */
async function drive(port, { sessions, seconds, maxRequests, concurrency, actionsPerBatch }) {
  const latencies = [];
  const statuses = {};
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError = null;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (next < maxRequests && performance.now() < deadline) {
      const i = next++;
      const s = performance.now();
      try {
        const r = await sendBatch(port, sessions[i % sessions.length], actionsPerBatch);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status >= 200 && r.status < 300) {
          ok++;
          latencies.push(performance.now() - s);
        } else {
          failed++;
          firstError ??= `${r.status} ${r.body.slice(0, 300)}`;
        }
      } catch (err) {
        failed++;
        statuses.error = (statuses.error ?? 0) + 1;
        firstError ??= err.message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: ok + failed,
    ok,
    failed,
    statuses,
    firstError,
    elapsedS: round(elapsedS, 3),
    rps: round(ok / elapsedS, 1),
    actionsPerS: round((ok * actionsPerBatch) / elapsedS, 1),
    p50Ms: round(percentile(latencies, 0.5)),
    p90Ms: round(percentile(latencies, 0.9)),
    p99Ms: round(percentile(latencies, 0.99)),
    maxMs: round(latencies.at(-1) ?? null),
  };
}

/** Waits until workerd in `server`'s group burns < ~5% of a core for two samples in a row. */
async function settle(server, maxMs = PROFILE.settleMaxMs) {
  const t0 = performance.now();
  let prev = groupCpuMs(server).workerdUser;
  if (prev === undefined) {
    await sleep(Math.min(2_000, maxMs));
    return { settled: null, ms: Math.round(performance.now() - t0) };
  }
  let quiet = 0;
  while (performance.now() - t0 < maxMs) {
    await sleep(500);
    const cur = groupCpuMs(server).workerdUser ?? prev;
    quiet = cur - prev <= 25 ? quiet + 1 : 0;
    prev = cur;
    if (quiet >= 2) return { settled: true, ms: Math.round(performance.now() - t0) };
  }
  return { settled: false, ms: Math.round(performance.now() - t0) };
}

/** Touches every session once (so actors exist), bounded in time. */
async function touchSessions(port, sessions, actionsPerBatch, maxMs = 120_000) {
  return drive(port, { sessions, seconds: maxMs / 1000, maxRequests: sessions.length, concurrency: PROFILE.concurrency, actionsPerBatch });
}

/**
 * The warm session set of `sessionCount` sessions on `server`: created and touched once (every
 * actor exists, its isolate and SQLite file are open), then reused by every later phase.
 */
const sessionSets = new Map();
async function warmSessions(server, sessionCount) {
  const key = `${server.name}:${sessionCount}`;
  if (sessionSets.has(key)) return { sessions: sessionSets.get(key), warmup: null };
  const sessions = Array.from({ length: sessionCount }, (_, i) => `w-${server.name}-${sessionCount}-${RUN_ID}-${i}`);
  const apb = PROFILE.actionsPerBatch;
  const warmup =
    sessionCount > 1
      ? await touchSessions(server.port, sessions, apb)
      : await drive(server.port, { sessions, seconds: PROFILE.warmupSeconds, maxRequests: PROFILE.maxRequestsPerPhase, concurrency: PROFILE.concurrency, actionsPerBatch: apb });
  if (warmup.failed > 0) throw new Error(`warm-up of ${sessionCount} session(s) on ${server.name}: ${warmup.failed} failed (${warmup.firstError})`);
  sessionSets.set(key, sessions);
  log(`  warmed ${sessionCount} session(s) on ${server.name} in ${warmup.elapsedS} s`);
  return { sessions, warmup };
}

/** One measured ingest phase against one server, with warm-up and settling, plus CPU per request. */
async function ingestPhase(server, { sessionCount, seconds }) {
  const apb = PROFILE.actionsPerBatch;
  const { sessions, warmup } = await warmSessions(server, sessionCount);
  const pre = await settle(server);
  const cpu0 = groupCpuMs(server);
  const result = await drive(server.port, { sessions, seconds, maxRequests: PROFILE.maxRequestsPerPhase, concurrency: PROFILE.concurrency, actionsPerBatch: apb });
  const cpuLoad = cpuDelta(cpu0, groupCpuMs(server));
  const post = await settle(server);
  const cpuAll = cpuDelta(cpu0, groupCpuMs(server));
  const perReq = (ms) => (result.ok > 0 && ms !== undefined ? round((ms * 1000) / result.ok, 0) : null);
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

// ---------------------------------------------------------------------------------------------
// CPU profiles through wrangler dev's inspector proxy (Chrome DevTools Protocol over WebSocket).

async function openInspector(server) {
  // The proxy only accepts a loopback Host and a localhost Origin (undici's WebSocket takes headers).
  const ws = new WebSocket(`ws://${HOST}:${server.inspectorPort}/ws`, { headers: { Origin: "http://localhost" } });
  let nextId = 0;
  const waiting = new Map();
  ws.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(String(e.data));
    } catch {
      return;
    }
    if (m.id && waiting.has(m.id)) {
      waiting.get(m.id)(m);
      waiting.delete(m.id);
    }
  };
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("inspector did not open within 10 s")), 10_000);
    ws.onopen = () => {
      clearTimeout(t);
      resolve();
    };
    ws.onerror = () => {
      clearTimeout(t);
      reject(new Error("inspector connection failed"));
    };
  });
  const call = (method, params = {}, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const t = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`inspector ${method} timed out`));
      }, timeoutMs);
      waiting.set(id, (m) => {
        clearTimeout(t);
        if (m.error) reject(new Error(`inspector ${method}: ${m.error.message}`));
        else resolve(m.result);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => ws.close() };
}

/** Runs `fn` under the V8 sampling profiler of `server`'s Worker; writes the .cpuprofile. */
async function profiled(server, name, fn) {
  let insp;
  try {
    insp = await openInspector(server);
    await insp.call("Profiler.enable");
    await insp.call("Profiler.setSamplingInterval", { interval: 250 });
    await insp.call("Profiler.start");
  } catch (err) {
    log(`profile ${name}: ${err.message}; running without it`);
    insp?.close();
    return { value: await fn(), profile: { error: err.message } };
  }
  let value;
  let stopped;
  try {
    value = await fn();
  } finally {
    stopped = await insp.call("Profiler.stop", {}, 60_000).catch((err) => ({ error: err.message }));
    insp.close();
  }
  if (!stopped?.profile) return { value, profile: { error: stopped?.error ?? "no profile" } };
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, "profiles", `${name}.cpuprofile`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(stopped.profile));
  return { value, profile: { file: path.relative(ROOT, file), ...summariseProfile(stopped.profile) } };
}

/** Self time by function, and the callers of the hottest functions (3 frames up). */
function summariseProfile(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frame = (n) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url ? `${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : ""}`.trim();
  const self = new Map();
  const stacks = new Map();
  let total = 0;
  let idle = 0;
  p.samples.forEach((sid, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const n = byId.get(sid);
    total += dt;
    if (n.callFrame.functionName === "(idle)") idle += dt;
    const f = frame(n);
    self.set(f, (self.get(f) ?? 0) + dt);
    const chain = [f];
    for (let cur = parent.get(sid), d = 0; cur && d < 3; cur = parent.get(cur), d++) chain.push(frame(byId.get(cur)));
    const key = chain.join(" ← ");
    stacks.set(key, (stacks.get(key) ?? 0) + dt);
  });
  const top = (m, k) => [...m.entries()].filter(([f]) => !f.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, k).map(([f, us]) => ({ ms: round(us / 1000, 1), pct: round((100 * us) / Math.max(1, total - idle), 1), f }));
  return { sampledMs: round(total / 1000, 0), busyMs: round((total - idle) / 1000, 0), selfTop: top(self, 25), stackTop: top(stacks, 25) };
}

// ---------------------------------------------------------------------------------------------
// Our worker's API helpers (tolerant: the session state shape may still be growing)

async function sessionState(port, sessionId) {
  try {
    const r = await getJson(port, `/v1/products/${PRODUCT}/sessions/${encodeURIComponent(sessionId)}`, AUTH);
    return r.status === 200 ? r.json : { _status: r.status, _body: r.body.slice(0, 300) };
  } catch (err) {
    return { _error: err.message };
  }
}

/** true / false when the state says so; null when it has none of the fields we know. */
function isIdle(state) {
  if (!state || typeof state !== "object" || state._status || state._error) return null;
  const known = [];
  if (state.pending && typeof state.pending === "object" && "actions" in state.pending) known.push(Number(state.pending.actions) === 0);
  if (state.windows && typeof state.windows === "object" && "unsummarised" in state.windows) known.push(Number(state.windows.unsummarised) === 0);
  if (state.windows && typeof state.windows === "object" && "unposted" in state.windows) known.push(Number(state.windows.unposted) === 0);
  if ("step" in state) known.push(state.step === null || state.step === undefined);
  if (known.length === 0) return null;
  return known.every(Boolean);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const results = {
  tool: "bench/run.mjs",
  runId: RUN_ID,
  command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim().replace(/ --$/, ""),
  startedAt: new Date().toISOString(),
  profile: PROFILE,
  machine: machineInfo(),
  scenarios: {},
  targets: [],
  errors: [],
};

function machineInfo() {
  const readVersion = (pkg) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
    } catch {
      return null;
    }
  };
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    // The workerd that `wrangler dev` actually runs (wrangler's own, when it nests one), and the
    // project's top-level one (what @cloudflare/vitest-plugin tests run on).
    workerd: readVersion("wrangler/node_modules/workerd") ?? readVersion("workerd"),
    workerdTopLevel: readVersion("workerd"),
    wrangler: readVersion("wrangler"),
    loadavgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

function target(name, value, goal, met) {
  results.targets.push({ name, value, goal, met: met === null || met === undefined ? null : Boolean(met) });
}

function recordError(scenario, err) {
  const message = err?.stack ?? String(err);
  log(`ERROR in ${scenario}: ${message.split("\n").slice(0, 12).join("\n")}`);
  results.errors.push({ scenario, message: String(err?.message ?? err).slice(0, 4_000) });
}

const ourVars = (fakes, extra = {}) => ({
  API_TOKEN,
  DESTINATION: "webhook",
  WEBHOOK_URL: `http://${HOST}:${fakes.ports.destination}/hook`,
  WEBHOOK_SECRET: `whsec_${Buffer.from("context-relay-bench-secret-32by!").toString("base64")}`,
  LLM_BASE_URL: `http://${HOST}:${fakes.ports.llm}/v1`,
  LLM_API_KEY: "bench",
  LLM_MODEL: "bench",
  SUMMARY_THRESHOLD: String(PROFILE.threshold),
  DEBOUNCE_MS: "0",
  ...(argv.logs ? {} : { LOG_LEVEL: "warn" }),
  ...extra,
});

/** Scenario 5: one long session, K = 10. Runs first on a fresh server so every LLM call is its own. */
async function scenarioLong(ours, fakes) {
  const apb = PROFILE.actionsPerBatch;
  const batches = Math.ceil(PROFILE.longActions / apb);
  const actions = batches * apb;
  const sessionId = `long-${RUN_ID}`;
  await fakes.reset();
  log(`long session: ${actions} actions in ${batches} batches of ${apb}, K=${PROFILE.threshold}`);
  // Peaks over the whole session, not just at the end: rows must stay O(K) at every moment.
  const peaks = { rows: 0, bytes: 0, pendingActions: 0, unsummarisedWindows: 0, samples: 0 };
  const sample = (st) => {
    if (!st || st._status || st._error) return;
    peaks.samples++;
    peaks.rows = Math.max(peaks.rows, Number(st.storage?.rows ?? 0));
    peaks.bytes = Math.max(peaks.bytes, Number(st.storage?.bytes ?? 0));
    peaks.pendingActions = Math.max(peaks.pendingActions, Number(st.pending?.actions ?? 0));
    peaks.unsummarisedWindows = Math.max(peaks.unsummarisedWindows, Number(st.windows?.unsummarised ?? 0));
  };
  let ingesting = true;
  const sampler = (async () => {
    for (let i = 0; ingesting && i < 100_000; i++) {
      sample(await sessionState(ours.port, sessionId));
      await sleep(1_000);
    }
  })();
  const t0 = performance.now();
  let load;
  try {
    load = await drive(ours.port, { sessions: [sessionId], seconds: PROFILE.longWaitMaxMs / 1000, maxRequests: batches, concurrency: 1, actionsPerBatch: apb });
  } finally {
    ingesting = false;
    await sampler;
  }
  const ingestMs = performance.now() - t0;
  const ingestEndedAt = Date.now();
  if (load.failed > 0) throw new Error(`long session ingest: ${load.failed} failed (${load.firstError})`);
  const expectedLlm = Math.floor(actions / PROFILE.threshold);
  // Wait for quiescence: the state says idle; or (without those fields) LLM calls reached the
  // expected count and nothing moved for 3 s. Give up after longWaitMaxMs or 60 s without progress.
  const deadline = performance.now() + PROFILE.longWaitMaxMs;
  let state;
  let idleBy = null;
  let lastProgress = performance.now();
  let lastCounts = "";
  let idleStreak = 0;
  let lastIdleCounts = "";
  while (performance.now() < deadline) {
    state = await sessionState(ours.port, sessionId);
    sample(state);
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
    if (idle === true && idleStreak >= 1) {
      idleBy = "session state (pending.actions, windows.unsummarised/unposted = 0, step = null)";
      break;
    }
    if (idle === null && llm.calls >= expectedLlm && performance.now() - lastProgress > 3_000) {
      idleBy = "fake counters stable (session state has no pending/windows/step fields)";
      break;
    }
    if (performance.now() - lastProgress > 60_000) {
      idleBy = "gave up: no progress for 60 s";
      break;
    }
    await sleep(500);
  }
  const drainMs = performance.now() - t0 - ingestMs;
  // Extra second: anything still trickling in would show up in the counts.
  await sleep(1_000);
  state = await sessionState(ours.port, sessionId);
  const llmRecords = (await fakes.records("llm")).filter((r) => r.path?.endsWith("/chat/completions"));
  const destRecords = await fakes.records("destination");
  const byKind = {};
  for (const r of destRecords) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  const sizes = llmRecords.map((r) => r.promptChars ?? 0);
  const tenth = Math.max(1, Math.floor(sizes.length / 10));
  const firstMax = sizes.length ? Math.max(...sizes.slice(0, tenth)) : null;
  const lastMax = sizes.length ? Math.max(...sizes.slice(-tenth)) : null;
  const rows = state?.storage?.rows ?? null;
  const out = {
    sessionId,
    actions,
    batches,
    threshold: PROFILE.threshold,
    ingest: { seconds: round(ingestMs / 1000, 2), rps: load.rps, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
    quiescence: { by: idleBy, drainSeconds: round(drainMs / 1000, 2) },
    llmCalls: llmRecords.length,
    llmCallsDuringIngest: llmRecords.filter((r) => r.at <= ingestEndedAt).length,
    expectedLlmCalls: expectedLlm,
    peaks,
    destinationCalls: destRecords.length,
    destinationCallsByKind: byKind,
    storageRows: rows,
    storageBytes: state?.storage?.bytes ?? null,
    rowsTarget: 3 * PROFILE.threshold,
    promptChars: { max: sizes.length ? Math.max(...sizes) : null, maxFirst10pct: firstMax, maxLast10pct: lastMax, growth: firstMax ? round(lastMax / firstMax, 3) : null },
    finalState: trimState(state),
  };
  target("long session: LLM calls", `${out.llmCalls} (expected ${expectedLlm})`, `= actions/K = ${expectedLlm}`, out.llmCalls === expectedLlm);
  target("long session: rows kept at the end", rows, `≤ 3K = ${3 * PROFILE.threshold}`, rows === null ? null : rows <= 3 * PROFILE.threshold);
  target("long session: most rows at any sample (every ~1 s)", peaks.samples ? peaks.rows : null, `≤ 3K = ${3 * PROFILE.threshold}`, peaks.samples ? peaks.rows <= 3 * PROFILE.threshold : null);
  target("long session: largest prompt, last 10% ÷ first 10%", out.promptChars.growth, "flat (≤ 1.1)", out.promptChars.growth === null ? null : out.promptChars.growth <= 1.1);
  return out;
}

function trimState(state) {
  const s = JSON.stringify(state ?? null);
  return s.length > 4_000 ? { truncated: s.slice(0, 4_000) } : state;
}

const INGEST_TARGETS = {
  ours: "ours (whole pipeline: DEBOUNCE_MS=0, webhook + LLM fakes at 0 ms)",
  oursIngestOnly: "ours (ingest path only: DEBOUNCE_MS=600000, K=1000, so no step runs during the phase)",
  floor: "floor (one INSERT per request)",
};

/**
 * Scenarios 1 and 2: ours (whole pipeline), ours (ingest path only) and the floor, the same
 * load each, the order rotating every round; medians over rounds, and ratios to the floor.
 */
async function scenarioIngest(servers) {
  const loads = [
    { key: "one", sessionCount: 1 },
    { key: "many", sessionCount: PROFILE.manySessions },
  ];
  const present = Object.keys(INGEST_TARGETS).filter((k) => servers[k]);
  const rounds = [];
  for (let r = 1; r <= PROFILE.rounds; r++) {
    const order = present.map((_, i) => present[(i + r - 1) % present.length]);
    const roundOut = { round: r, order };
    for (const load of loads) {
      for (const key of order) {
        const server = servers[key];
        log(`ingest round ${r}: ${key}, ${load.sessionCount} session(s), ${PROFILE.ingestSeconds} s at concurrency ${PROFILE.concurrency}`);
        let res;
        const phase = () => ingestPhase(server, { sessionCount: load.sessionCount, seconds: PROFILE.ingestSeconds });
        if (argv.profile && r === 1 && key !== "floor") {
          const { value, profile } = await profiled(server, `${key}-${load.key}`, phase);
          res = { ...value, profile };
          if (profile.selfTop) log(`  profile: ${profile.file}; busy ${profile.busyMs} ms; top: ${profile.selfTop.slice(0, 5).map((x) => `${x.f} ${x.pct}%`).join(", ")}`);
        } else {
          res = await phase();
        }
        const c = res.cpuUsPerRequest;
        log(`  → ${res.rps} req/s, ${res.actionsPerS} actions/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, failed ${res.failed}; CPU µs/req: runtime ${c.userRuntimeDuringLoad} during load, ${c.userRuntimeIncludingBackground} with background; dev proxy ${c.devProxy}; wrangler ${c.wranglerNode}`);
        if (res.failed > 0) results.errors.push({ scenario: `ingest ${key} ${load.key}`, message: `${res.failed} of ${res.requests} requests failed: ${res.firstError}` });
        (roundOut[key] ??= {})[load.key] = res;
      }
    }
    rounds.push(roundOut);
  }
  const summary = {};
  for (const key of present) {
    for (const load of loads) {
      const xs = rounds.map((r) => r[key]?.[load.key]).filter(Boolean);
      if (xs.length === 0) continue;
      (summary[key] ??= { label: INGEST_TARGETS[key] })[load.key] = {
        sessions: load.sessionCount,
        rps: round(median(xs.map((x) => x.rps)), 1),
        actionsPerS: round(median(xs.map((x) => x.actionsPerS)), 1),
        p50Ms: round(median(xs.map((x) => x.p50Ms))),
        p99Ms: round(median(xs.map((x) => x.p99Ms))),
        cpuUsPerRequestDuringLoad: round(median(xs.map((x) => x.cpuUsPerRequest.userRuntimeDuringLoad)), 0),
        cpuUsPerRequest: round(median(xs.map((x) => x.cpuUsPerRequest.userRuntimeIncludingBackground)), 0),
        devProxyCpuUsPerRequest: round(median(xs.map((x) => x.cpuUsPerRequest.devProxy)), 0),
        wranglerCpuUsPerRequest: round(median(xs.map((x) => x.cpuUsPerRequest.wranglerNode)), 0),
        failed: xs.reduce((a, x) => a + x.failed, 0),
      };
    }
  }
  const ratios = {};
  if (summary.floor) {
    for (const key of present.filter((k) => k !== "floor")) {
      for (const load of loads) {
        const o = summary[key][load.key];
        const f = summary.floor[load.key];
        // Per round too: within a round the phases ran back to back.
        const perRound = rounds.map((r) => ({
          throughput: round(r[key][load.key].rps / r.floor[load.key].rps, 3),
          p99: round(r[key][load.key].p99Ms / r.floor[load.key].p99Ms, 3),
        }));
        // Headline: the median of the per-round ratios (each round's phases ran back to back, so
        // the pair saw the same machine); the ratio of the medians is kept for reference.
        const x = ((ratios[key] ??= {})[load.key] = {
          throughput: round(median(perRound.map((q) => q.throughput)), 3),
          p99: round(median(perRound.map((q) => q.p99)), 3),
          ratioOfMedians: { throughput: round(o.rps / f.rps, 3), p99: round(o.p99Ms / f.p99Ms, 3) },
          cpuDuringLoad: o.cpuUsPerRequestDuringLoad && f.cpuUsPerRequestDuringLoad ? round(o.cpuUsPerRequestDuringLoad / f.cpuUsPerRequestDuringLoad, 2) : null,
          cpuWithBackground: o.cpuUsPerRequest && f.cpuUsPerRequest ? round(o.cpuUsPerRequest / f.cpuUsPerRequest, 2) : null,
          perRound,
        });
        const label = `${key === "ours" ? "ours" : "ours, ingest path only,"} ÷ floor`;
        const n = `${load.sessionCount} session${load.sessionCount > 1 ? "s" : ""}`;
        target(`${label} throughput (${n})`, x.throughput, "≥ 0.85", x.throughput >= 0.85);
        target(`${label} p99 (${n})`, x.p99, "≤ 1.2", x.p99 <= 1.2);
      }
    }
  }
  return { targets: INGEST_TARGETS, summary, ratios, rounds };
}

/** Scenario 3: ingest p99 with the destination at 0 vs 500 ms and the LLM at 0 vs 3 s. */
async function scenarioIsolation(ours, fakes) {
  const conditions = [
    { key: "base", dest: 0, llm: 0 },
    { key: "slowDestination", dest: PROFILE.isolationDestMs, llm: 0 },
    { key: "slowLlm", dest: 0, llm: PROFILE.isolationLlmMs },
  ];
  const loads = [
    { key: "one", sessionCount: 1 },
    { key: "many", sessionCount: PROFILE.manySessions },
  ];
  const rounds = [];
  try {
    for (let r = 1; r <= PROFILE.rounds; r++) {
      const order = conditions.map((_, i) => conditions[(i + r - 1) % conditions.length]);
      const roundOut = { round: r };
      for (const load of loads) {
        for (const c of order) {
          log(`isolation round ${r}: ${c.key} (destination ${c.dest} ms, LLM ${c.llm} ms), ${load.sessionCount} session(s)`);
          const { sessions } = await warmSessions(ours, load.sessionCount);
          const settleBefore = await settle(ours);
          await fakes.reset();
          await fakes.config("destination", { latencyMs: c.dest });
          await fakes.config("llm", { latencyMs: c.llm });
          const destBefore = await fakes.stats("destination");
          const llmBefore = await fakes.stats("llm");
          const cpu0 = groupCpuMs(ours);
          const res = await drive(ours.port, { sessions, seconds: PROFILE.isolationSeconds, maxRequests: PROFILE.maxRequestsPerPhase, concurrency: PROFILE.concurrency, actionsPerBatch: PROFILE.actionsPerBatch });
          const cpu = cpuDelta(cpu0, groupCpuMs(ours));
          res.cpuUsPerRequestDuringLoad = res.ok ? round(((cpu.workerdUser ?? 0) * 1000) / res.ok, 0) : null;
          const destAfter = await fakes.stats("destination");
          const llmAfter = await fakes.stats("llm");
          res.destinationCallsDuring = destAfter.calls - destBefore.calls;
          res.llmCallsDuring = llmAfter.calls - llmBefore.calls;
          res.destinationInFlightMax = destAfter.maxInFlight;
          res.llmInFlightMax = llmAfter.maxInFlight;
          res.settleBefore = settleBefore;
          log(`  → ${res.rps} req/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, runtime ${res.cpuUsPerRequestDuringLoad} µs CPU/req; destination calls ${res.destinationCallsDuring}, LLM calls ${res.llmCallsDuring} during load`);
          if (res.failed > 0) results.errors.push({ scenario: `isolation ${c.key} ${load.key}`, message: `${res.failed} failed: ${res.firstError}` });
          (roundOut[load.key] ??= {})[c.key] = res;
          // Back to fast fakes so the backlog drains before the next phase.
          await fakes.config("destination", { latencyMs: 0 });
          await fakes.config("llm", { latencyMs: 0 });
          res.settleAfter = await settle(ours);
        }
      }
      rounds.push(roundOut);
    }
  } finally {
    await fakes.config("destination", { latencyMs: 0 }).catch(() => {});
    await fakes.config("llm", { latencyMs: 0 }).catch(() => {});
  }
  const summary = {};
  for (const load of loads) {
    const s = (summary[load.key] = { sessions: load.sessionCount });
    for (const c of conditions) {
      const xs = rounds.map((r) => r[load.key][c.key]);
      s[c.key] = { p50Ms: round(median(xs.map((x) => x.p50Ms))), p99Ms: round(median(xs.map((x) => x.p99Ms))), rps: round(median(xs.map((x) => x.rps)), 1), cpuUsPerRequestDuringLoad: round(median(xs.map((x) => x.cpuUsPerRequestDuringLoad)), 0), destinationCallsDuring: median(xs.map((x) => x.destinationCallsDuring)), llmCallsDuring: median(xs.map((x) => x.llmCallsDuring)) };
    }
    // Headline: the median over rounds of each round's ratio (a round's three phases ran back to back).
    s.perRound = rounds.map((r) => ({
      slowDestination: round(r[load.key].slowDestination.p99Ms / r[load.key].base.p99Ms, 3),
      slowLlm: round(r[load.key].slowLlm.p99Ms / r[load.key].base.p99Ms, 3),
    }));
    s.ratioSlowDestination = round(median(s.perRound.map((q) => q.slowDestination)), 3);
    s.ratioSlowLlm = round(median(s.perRound.map((q) => q.slowLlm)), 3);
    const label = `${load.sessionCount} session${load.sessionCount > 1 ? "s" : ""}`;
    target(`isolation: p99 destination ${PROFILE.isolationDestMs} ms ÷ 0 ms (${label})`, s.ratioSlowDestination, "≤ 1.1", s.ratioSlowDestination <= 1.1);
    target(`isolation: p99 LLM ${PROFILE.isolationLlmMs / 1000} s ÷ 0 s (${label})`, s.ratioSlowLlm, "≤ 1.1", s.ratioSlowLlm <= 1.1);
  }
  return { summary, rounds };
}

/** Scenario 4: 20 batches within 100 ms to one session, DEBOUNCE_MS=200 (its own server). */
async function scenarioCoalescing(server, fakes) {
  const reps = [];
  for (let rep = 1; rep <= PROFILE.coalesceReps; rep++) {
    await fakes.reset();
    const sessionId = `coalesce-${RUN_ID}-${rep}`;
    const t0 = Date.now();
    const sends = [];
    const sentAt = [];
    for (let i = 0; i < 20; i++) {
      const due = t0 + i * 5;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      sentAt.push(Date.now());
      sends.push(sendBatch(server.port, sessionId, 1).catch((err) => ({ status: 0, body: err.message })));
    }
    const answers = await Promise.all(sends);
    const accepted = answers.filter((a) => a.status >= 200 && a.status < 300).length;
    const spreadMs = sentAt.at(-1) - sentAt[0];
    // Wait for the first destination call for this session, then 1.5 s of silence (≤ 15 s).
    const matches = (r) => r.sessions?.includes(sessionId) || r.head?.includes(sessionId);
    const deadline = Date.now() + 15_000;
    let mine = [];
    let lastCount = -1;
    let stableSince = Date.now();
    while (Date.now() < deadline) {
      mine = (await fakes.records("destination")).filter(matches);
      if (mine.length !== lastCount) {
        lastCount = mine.length;
        stableSince = Date.now();
      }
      if (mine.length > 0 && Date.now() - stableSince >= 1_500) break;
      await sleep(100);
    }
    const raw = mine.filter((r) => r.kind === "raw" || r.kind === "other");
    const first = mine[0];
    const out = {
      sessionId,
      accepted,
      sendSpreadMs: spreadMs,
      destinationCalls: mine.length,
      rawNotes: raw.length,
      kinds: mine.map((r) => r.kind),
      firstActionToDestinationMs: first ? first.at - sentAt[0] : null,
      lastActionToDestinationMs: first ? first.at - sentAt.at(-1) : null,
    };
    log(`coalescing rep ${rep}: ${accepted}/20 accepted over ${spreadMs} ms → ${out.destinationCalls} destination call(s) (${out.kinds.join(", ")}), first action → destination ${out.firstActionToDestinationMs} ms`);
    if (accepted < 20) results.errors.push({ scenario: "coalescing", message: `only ${accepted}/20 accepted: ${answers.find((a) => a.status < 200 || a.status >= 300)?.body?.slice(0, 300)}` });
    reps.push(out);
  }
  const summary = {
    reps: reps.length,
    destinationCallsMax: Math.max(...reps.map((r) => r.destinationCalls)),
    rawNotesMedian: median(reps.map((r) => r.rawNotes)),
    firstActionToDestinationMsMedian: median(reps.map((r) => r.firstActionToDestinationMs)),
    firstActionToDestinationMsMax: Math.max(...reps.map((r) => r.firstActionToDestinationMs ?? Infinity)),
    lastActionToDestinationMsMedian: median(reps.map((r) => r.lastActionToDestinationMs)),
  };
  target("coalescing: raw notes for 20 batches in 100 ms", `${summary.rawNotesMedian} (max calls ${summary.destinationCallsMax})`, "1", reps.every((r) => r.rawNotes === 1));
  return { summary, reps };
}

/** `wrangler deploy --dry-run --outdir` of `config` (run in `cwd`); sizes raw and gzip (zlib level 9). */
async function build(name, config, cwd = ROOT) {
  const outdir = path.join(TMP, `bundle-${name}`);
  const logFile = path.join(TMP, `bundle-${name}.log`);
  const child = spawnGroup(`bundle-${name}`, "npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "-c", config], { logFile, cwd });
  const res = await Promise.race([child.exited, sleep(180_000).then(() => null)]);
  if (!res) await killGroup(child);
  const logText = readTail(logFile, 20_000);
  if (!res || res.code !== 0) throw new Error(`wrangler deploy --dry-run (${name}) failed (${res ? `exit ${res.code}` : "timeout"}): ${logText.slice(-1_500)}`);
  let raw = 0;
  let gz = 0;
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(m?js|cjs|wasm)$/.test(e.name)) {
        const buf = fs.readFileSync(p);
        const g = zlib.gzipSync(buf, { level: 9 }).length;
        raw += buf.length;
        gz += g;
        files.push({ file: path.relative(outdir, p), bytes: buf.length, gzipBytes: g });
      }
    }
  };
  walk(outdir);
  const entry = files.find((f) => /^(worker|index)\.m?js$/.test(f.file))?.file ?? files[0]?.file ?? null;
  const wranglerLine = logText.match(/Total Upload:[^\n]*/)?.[0] ?? null;
  const sizes = { rawBytes: raw, gzipBytes: gz, rawKiB: round(raw / 1024, 1), gzipKiB: round(gz / 1024, 1), files, wranglerSays: wranglerLine };
  log(`bundle ${name}: ${sizes.rawKiB} KiB raw, ${sizes.gzipKiB} KiB gzip (${wranglerLine ?? "no wrangler total line"})`);
  return { outdir, entry: entry && path.join(outdir, entry), sizes };
}

/**
 * A copy of bench/floor/wrangler.toml in the temp dir with an absolute `main`: wrangler writes its
 * .wrangler/ scratch next to the config it runs, and it must not land in the source tree.
 */
function floorConfigCopy() {
  const dir = path.join(TMP, "floor-config");
  fs.mkdirSync(dir, { recursive: true });
  const text = fs.readFileSync(path.join(HERE, "floor", "wrangler.toml"), "utf8").replace(/^main\s*=.*$/m, `main = ${JSON.stringify(path.join(HERE, "floor", "worker.js"))}`);
  const file = path.join(dir, "wrangler.toml");
  fs.writeFileSync(file, text);
  return file;
}

function git(args) {
  try {
    // --no-optional-locks: never take index.lock (someone else may be committing).
    return execFileSync("git", ["--no-optional-locks", ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 }).trim();
  } catch {
    return null;
  }
}

/**
 * Freezes our worker for the whole run: bundles it once (`wrangler deploy --dry-run`, which is
 * also scenario 6) and writes a copy of its wrangler config, in the temp dir, whose `main` is that
 * bundle with `no_bundle = true`. Every "ours" server runs the frozen bundle, so edits to src/
 * during the run (wrangler dev would hot-reload them) cannot change or restart what is measured,
 * and no .dev.vars is picked up. With --ref, the bundle is built from that git commit instead of
 * the working tree (git archive into the temp dir; node_modules linked).
 */
async function freezeOurs() {
  let cwd = ROOT;
  let config = OURS_CONFIG ?? path.join(ROOT, "wrangler.toml");
  const source = { commit: git(["rev-parse", "HEAD"]) };
  if (argv.ref) {
    const commit = git(["rev-parse", "--verify", `${argv.ref}^{commit}`]);
    if (!commit) throw new Error(`--ref ${argv.ref}: not a commit`);
    const dir = path.join(TMP, "source");
    fs.mkdirSync(dir);
    const tar = spawnSync("git", ["archive", "--format=tar", commit], { cwd: ROOT, maxBuffer: 1 << 30, timeout: 60_000 });
    if (tar.status !== 0) throw new Error(`git archive ${commit} failed`);
    const untar = spawnSync("tar", ["-x", "-C", dir], { input: tar.stdout, timeout: 60_000 });
    if (untar.status !== 0) throw new Error("tar -x failed");
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    cwd = dir;
    config = path.join(dir, path.relative(ROOT, config));
    Object.assign(source, { kind: "git", ref: argv.ref, commit });
  } else {
    const dirty = git(["status", "--porcelain", "--", "src", "wrangler.toml", "package.json", "package-lock.json"]);
    Object.assign(source, { kind: "working tree", uncommittedChanges: dirty ? dirty.split("\n").length : 0 });
  }
  const built = await build("ours", config, cwd);
  if (!built.entry) throw new Error("the dry-run bundle has no .js entry");
  const text = fs.readFileSync(config, "utf8");
  let frozen;
  if (/\.toml$/.test(config)) {
    if (!/^main\s*=.*$/m.test(text)) throw new Error(`${config} has no top-level main = ...`);
    frozen = text.replace(/^main\s*=.*$/m, `main = ${JSON.stringify(built.entry)}\nno_bundle = true`);
  } else {
    if (!/"main"\s*:\s*"[^"]*"/.test(text)) throw new Error(`${config} has no "main"`);
    frozen = text.replace(/"main"\s*:\s*"[^"]*"/, `"main": ${JSON.stringify(built.entry)}, "no_bundle": true`);
  }
  const frozenDir = path.join(TMP, "ours-config");
  fs.mkdirSync(frozenDir, { recursive: true });
  const frozenConfig = path.join(frozenDir, path.basename(config));
  fs.writeFileSync(frozenConfig, frozen);
  source.bundleSha256 = createHash("sha256").update(fs.readFileSync(built.entry)).digest("hex").slice(0, 16);
  log(`ours: frozen bundle ${source.bundleSha256} from ${source.kind === "git" ? `commit ${source.commit.slice(0, 12)}` : `the working tree at ${source.commit?.slice(0, 12) ?? "?"} (${source.uncommittedChanges} uncommitted file(s) under src/ and config)`}`);
  return { config: frozenConfig, sizes: built.sizes, source };
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(x, unit = "") {
  if (x === null || x === undefined) return "—";
  return `${typeof x === "number" ? x.toLocaleString("en-US", { maximumFractionDigits: 2 }) : x}${unit}`;
}

function markdown() {
  const m = results.machine;
  const S = results.scenarios;
  const lines = [];
  lines.push(`# Context Relay benchmark (${results.profile.name})`);
  lines.push("");
  lines.push(`Command: \`${results.command}\` · run ${results.runId} · ${results.startedAt} · ${results.durationS} s`);
  lines.push(`Machine: ${m.cores} cores (${m.cpuModel}), ${m.memGiB} GiB, ${m.platform}; Node ${m.node}; workerd ${m.workerd} (wrangler dev's; top-level ${m.workerdTopLevel}); wrangler ${m.wrangler}; load average at start ${m.loadavgAtStart.join(" ")}, at end ${m.loadavgAtEnd?.join(" ")}`);
  const src = results.source;
  if (src) lines.push(`Worker measured: ${src.kind === "git" ? `git ${src.ref} = ${src.commit}` : `working tree at ${src.commit} with ${src.uncommittedChanges} uncommitted file(s) under src/ and config`}, frozen as bundle ${src.bundleSha256} for the whole run.`);
  lines.push(`Load: concurrency ${results.profile.concurrency}, ${results.profile.actionsPerBatch} actions per batch, ${results.profile.ingestSeconds} s per phase, ${results.profile.rounds} round(s) (medians shown), K=${results.profile.threshold}; local \`wrangler dev\` (workerd), everything on 127.0.0.1.`);
  lines.push("");
  if (S.ingest?.summary) {
    lines.push("## Ingest (POST /v1/actions)");
    lines.push("");
    lines.push("| worker | sessions | requests/s | actions/s | p50 ms | p99 ms | ÷ floor: throughput | ÷ floor: p99 | runtime CPU µs/req (load / +background) | failed |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const key of Object.keys(INGEST_TARGETS)) {
      for (const load of ["one", "many"]) {
        const x = S.ingest.summary[key]?.[load];
        const r = S.ingest.ratios?.[key]?.[load];
        if (x) lines.push(`| ${key} | ${fmt(x.sessions)} | ${fmt(x.rps)} | ${fmt(x.actionsPerS)} | ${fmt(x.p50Ms)} | ${fmt(x.p99Ms)} | ${fmt(r?.throughput)} | ${fmt(r?.p99)} | ${fmt(x.cpuUsPerRequestDuringLoad)} / ${fmt(x.cpuUsPerRequest)} | ${fmt(x.failed)} |`);
      }
    }
    lines.push("");
    for (const [key, label] of Object.entries(INGEST_TARGETS)) if (S.ingest.summary[key]) lines.push(`- ${key}: ${label}`);
    lines.push("- runtime CPU: the workerd process running the Worker and its Durable Objects, per accepted request, during the load and including the background work it left (until idle). wrangler dev's proxy workerd and its Node process add the same fixed cost to every worker and are left out.");
    lines.push("");
  }
  if (S.isolation?.summary) {
    lines.push("## Isolation from slow I/O (ingest p99, ms)");
    lines.push("");
    lines.push(`| sessions | base | destination ${results.profile.isolationDestMs} ms | ratio | LLM ${results.profile.isolationLlmMs / 1000} s | ratio | requests/s (base / dest / LLM) | runtime CPU µs/req (base / dest / LLM) |`);
    lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const load of ["one", "many"]) {
      const s = S.isolation.summary[load];
      if (s) lines.push(`| ${fmt(s.sessions)} | ${fmt(s.base.p99Ms)} | ${fmt(s.slowDestination.p99Ms)} | ${fmt(s.ratioSlowDestination)} | ${fmt(s.slowLlm.p99Ms)} | ${fmt(s.ratioSlowLlm)} | ${fmt(s.base.rps)} / ${fmt(s.slowDestination.rps)} / ${fmt(s.slowLlm.rps)} | ${fmt(s.base.cpuUsPerRequestDuringLoad)} / ${fmt(s.slowDestination.cpuUsPerRequestDuringLoad)} / ${fmt(s.slowLlm.cpuUsPerRequestDuringLoad)} |`);
    }
    lines.push("");
    lines.push("p99 columns: medians over rounds; ratios: the median of each round's ratio (the three conditions of a round ran back to back).");
    lines.push("");
  }
  lines.push("## Figures and targets");
  lines.push("");
  lines.push("| figure | value | target | met |");
  lines.push("|---|---:|---|:-:|");
  const c = S.coalescing?.summary;
  if (c) lines.push(`| coalescing: first action → destination (median of ${c.reps}) | ${fmt(c.firstActionToDestinationMsMedian, " ms")} | DEBOUNCE_MS=200 | |`);
  const l = S.long;
  if (l && !l.error) {
    lines.push(`| long session: actions / batches | ${fmt(l.actions)} / ${fmt(l.batches)} | | |`);
    lines.push(`| long session: ingest (one client, sequential) | ${fmt(l.ingest.seconds, " s")}, p50 ${fmt(l.ingest.p50Ms, " ms")}, p99 ${fmt(l.ingest.p99Ms, " ms")} | | |`);
    lines.push(`| long session: LLM calls while ingest ran / after | ${fmt(l.llmCallsDuringIngest)} / ${fmt(l.llmCalls - l.llmCallsDuringIngest)} | | |`);
    lines.push(`| long session: drain after ingest | ${fmt(l.quiescence.drainSeconds, " s")} | | |`);
    lines.push(`| long session: peak pending actions / unsummarised windows | ${fmt(l.peaks.pendingActions)} / ${fmt(l.peaks.unsummarisedWindows)} | | |`);
    lines.push(`| long session: storage bytes | ${fmt(l.storageBytes)} | | |`);
    lines.push(`| long session: largest prompt (chars) | ${fmt(l.promptChars.max)} | flat | |`);
  }
  const b = S.bundle;
  for (const key of ["ours", "floor"]) {
    if (b?.[key] && !b[key].error) lines.push(`| bundle (${key}): raw / gzip | ${fmt(b[key].rawKiB, " KiB")} / ${fmt(b[key].gzipKiB, " KiB")} | | |`);
    else if (b?.[key]?.error) lines.push(`| bundle (${key}) | error | | |`);
  }
  for (const t of results.targets) lines.push(`| ${t.name} | ${fmt(t.value)} | ${t.goal} | ${t.met === null ? "?" : t.met ? "✅" : "❌"} |`);
  lines.push("");
  if (results.errors.length) {
    lines.push("## Errors");
    lines.push("");
    for (const e of results.errors) lines.push(`- **${e.scenario}**: ${e.message.split("\n")[0].slice(0, 400)}`);
    lines.push("");
  }
  lines.push("Ratios to the floor are the median of the per-round ratios (each round runs ours and the floor back to back, in rotating order). The machine is shared; treat differences under ~10% as noise. Details, per-round figures and the ratio of medians are in `latest.json`.");
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Main

/** Counts the error and warning lines a server printed (beyond the known offline Request.cf warning). */
function logHealth(server) {
  let text;
  try {
    text = fs.readFileSync(server.logFile, "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const problems = lines.filter((l) => /error|exception|uncaught|✘/i.test(l) && !/Request\.cf|ENOTFOUND workers\.cloudflare\.com/.test(l));
  return { lines: lines.length, problemLines: problems.length, firstProblems: problems.slice(0, 5).map((l) => l.slice(0, 300)) };
}

async function stopServer(server) {
  if (!server) return;
  await killGroup(server.child);
  (results.servers ??= {})[server.name] = { port: server.port, startupMs: server.startupMs, log: logHealth(server) };
  const h = results.servers[server.name].log;
  if (h?.problemLines) log(`${server.name}: ${h.problemLines} error/exception line(s) in its log, first: ${h.firstProblems[0]}`);
}

async function main() {
  const started = performance.now();
  log(`profile ${PROFILE.name}; scenarios ${[...only].join(", ")}; tmp ${TMP}`);
  log(`machine: ${results.machine.cores} cores, Node ${results.machine.node}, workerd ${results.machine.workerd}, wrangler ${results.machine.wrangler}, load ${results.machine.loadavgAtStart.join(" ")}`);
  const haveOurs = fs.existsSync(OURS_ENTRY);
  const needOurs = ["ingest", "isolation", "long"].some((s) => only.has(s));
  const needCoalescing = only.has("coalescing");
  if ((needOurs || needCoalescing) && !haveOurs) {
    recordError("ours", new Error(`${path.relative(ROOT, OURS_ENTRY)} does not exist yet: scenarios against our worker skipped`));
  }
  // Everything that only costs start-up time runs at once: bundling and every server's start.
  // Measurements begin only after all of it is done.
  const settled = async (key, promise) => {
    if (!promise) return null;
    try {
      return await promise;
    } catch (err) {
      recordError(key, err);
      return null;
    }
  };
  const floorConfig = floorConfigCopy();
  const floorBuildP = settled("bundle", only.has("bundle") ? build("floor", floorConfig) : null);
  const floorP = settled("floor", only.has("floor") ? startWorker("floor", { config: floorConfig }) : null);
  const fakesP = settled("fakes", haveOurs && (needOurs || needCoalescing) ? startFakes() : null);
  const frozen = await settled("ours", haveOurs && (needOurs || needCoalescing || only.has("bundle")) ? freezeOurs() : null);
  const fakes = await fakesP;
  if (frozen) results.source = frozen.source;
  const canRunOurs = Boolean(frozen && fakes);
  const [ours, oursIngestOnly, coalescing] = await Promise.all([
    settled("ours", canRunOurs && needOurs ? startWorker("ours", { config: frozen.config, vars: ourVars(fakes) }) : null),
    settled("ours-ingest-only", canRunOurs && only.has("ingest") ? startWorker("ours-ingest-only", { config: frozen.config, vars: ourVars(fakes, { DEBOUNCE_MS: "600000", DEBOUNCE_MAX_MS: "600000", SUMMARY_THRESHOLD: "1000" }) }) : null),
    settled("coalescing", canRunOurs && needCoalescing ? startWorker("coalescing", { config: frozen.config, vars: ourVars(fakes, { DEBOUNCE_MS: "200", SUMMARY_THRESHOLD: "1000" }) }) : null),
  ]);
  const floor = await floorP;
  const floorBuild = await floorBuildP;
  if (only.has("bundle")) {
    results.scenarios.bundle = {
      ours: frozen ? frozen.sizes : { error: haveOurs ? "bundling failed (see errors)" : `${path.relative(ROOT, OURS_ENTRY)} does not exist yet` },
      floor: floorBuild ? floorBuild.sizes : { error: "bundling failed (see errors)" },
    };
  }
  const startup = { ours, oursIngestOnly, floor, coalescing };
  results.scenarios.startupMs = Object.fromEntries(Object.entries(startup).filter(([, v]) => v).map(([k, v]) => [k, v.startupMs]));

  if (ours && only.has("long")) {
    try {
      results.scenarios.long = await scenarioLong(ours, fakes);
      const l = results.scenarios.long;
      log(`long session: ${l.llmCalls} LLM calls (expected ${l.expectedLlmCalls}), ${l.storageRows} rows, prompt max ${l.promptChars.maxFirst10pct} → ${l.promptChars.maxLast10pct} chars, drained in ${l.quiescence.drainSeconds} s (${l.quiescence.by})`);
      await settle(ours);
    } catch (err) {
      recordError("long", err);
      results.scenarios.long = { error: String(err.message ?? err) };
    }
  }

  const ingestServers = { ours: only.has("ingest") ? ours : null, oursIngestOnly, floor };
  if (Object.values(ingestServers).some(Boolean)) {
    try {
      results.scenarios.ingest = await scenarioIngest(ingestServers);
    } catch (err) {
      recordError("ingest", err);
    }
  }
  await stopServer(floor);
  await stopServer(oursIngestOnly);

  if (ours && only.has("isolation")) {
    try {
      results.scenarios.isolation = await scenarioIsolation(ours, fakes);
    } catch (err) {
      recordError("isolation", err);
    }
  }
  await stopServer(ours);

  if (coalescing) {
    try {
      results.scenarios.coalescing = await scenarioCoalescing(coalescing, fakes);
    } catch (err) {
      recordError("coalescing", err);
    }
  }
  await stopServer(coalescing);

  results.durationS = round((performance.now() - started) / 1000, 1);
  results.machine.loadavgAtEnd = os.loadavg().map((x) => round(x, 2));
}

let exitCode = 0;
const watchdog = setTimeout(() => {
  log(`run exceeded ${RUN_DEADLINE_MS / 1000} s: stopping`);
  results.errors.push({ scenario: "run", message: `exceeded ${RUN_DEADLINE_MS / 1000} s` });
  finish(3);
}, RUN_DEADLINE_MS);
watchdog.unref();

let finishing = false;
async function finish(code) {
  if (finishing) return;
  finishing = true;
  await killAll();
  agent.destroy();
  results.finishedAt = new Date().toISOString();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, "latest.json"), JSON.stringify(results, null, 2) + "\n");
  let md;
  try {
    md = markdown();
  } catch (err) {
    md = `# Context Relay benchmark\n\nThe Markdown report failed (${err.message}); see latest.json.\n`;
  }
  fs.writeFileSync(path.join(OUT_DIR, "latest.md"), md);
  console.log("\n" + md);
  log(`wrote ${path.relative(ROOT, path.join(OUT_DIR, "latest.json"))} and latest.md`);
  if (argv.keep || code !== 0 || results.errors.length) log(`logs kept in ${TMP}`);
  else fs.rmSync(TMP, { recursive: true, force: true });
  process.exit(code || (results.errors.length ? 1 : 0));
}

main()
  .then(() => finish(exitCode))
  .catch((err) => {
    recordError("run", err);
    finish(1);
  });
