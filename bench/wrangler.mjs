// Our worker and the floor under `wrangler dev --local`, and their bundles from
// `wrangler deploy --dry-run`. Everything wrangler writes (logs, state, bundles) goes under the
// run's temp dir `tmp`.
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import zlib from "node:zlib";
import { BENCH_DIR, HOST, ROOT } from "./constants.mjs";
import { request } from "./client.mjs";
import { log } from "./log.mjs";
import { freePort } from "./ports.mjs";
import { killGroup, spawnGroup } from "./processes.mjs";
import { round } from "./stats.mjs";

/**
 * Starts `npx wrangler dev` for `config` with `vars` and waits until GET /healthz answers 200.
 * Resolves the server: `{ name, port, inspectorPort, child, pgid, logFile, startupMs }`.
 */
export async function startWorker(name, { config, vars = {} }, { tmp, startupMaxMs }, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(name, { config, vars }, { tmp, startupMaxMs, attempt });
    } catch (err) {
      // A port taken between our check and wrangler's bind: try again on other ports.
      if (attempt >= attempts || !/already in use|EADDRINUSE/i.test(err.message)) throw err;
      log(`${name}: a port was taken (${attempt}/${attempts}); retrying on other ports`);
    }
  }
}

async function startWorkerOnce(name, { config, vars }, { tmp, startupMaxMs, attempt }) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const base = path.join(tmp, attempt > 1 ? `${name}.${attempt}` : name);
  const logFile = `${base}.log`;
  // Every wrangler dev starts from an empty state folder, a retry too: mkdirSync throws if it exists.
  const stateDir = `${base}-state`;
  fs.mkdirSync(stateDir);
  const args = ["wrangler", "dev", "--port", String(port), "--ip", HOST, "--local", "--persist-to", stateDir, "--inspector-port", String(inspectorPort), "--inspector-ip", HOST, "--show-interactive-dev-session=false", "--log-level", "warn"];
  if (config) args.push("-c", config);
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawnGroup(name, "npx", args, { logFile });
  const started = performance.now();
  const deadline = started + startupMaxMs;
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
    return fs.readFileSync(file, "utf8").slice(-chars);
  } catch {
    return "(no log)";
  }
}

/**
 * `wrangler deploy --dry-run --outdir` of `config` (run in `cwd`). Resolves the bundle's directory,
 * its entry file and its sizes, raw and gzip (zlib level 9).
 */
export async function buildBundle(name, config, { tmp, cwd = ROOT }) {
  const outdir = path.join(tmp, `bundle-${name}`);
  const logFile = path.join(tmp, `bundle-${name}.log`);
  const child = spawnGroup(`bundle-${name}`, "npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "-c", config], { logFile, cwd });
  const res = await Promise.race([child.exited, sleep(180_000).then(() => null)]);
  if (!res) await killGroup(child);
  const logText = readTail(logFile, 20_000);
  if (!res || res.code !== 0) throw new Error(`wrangler deploy --dry-run (${name}) failed (${res ? `exit ${res.code}` : "timeout"}): ${logText.slice(-1_500)}`);
  const files = codeFiles(outdir);
  const raw = files.reduce((a, f) => a + f.bytes, 0);
  const gz = files.reduce((a, f) => a + f.gzipBytes, 0);
  const entry = files.find((f) => /^(worker|index)\.m?js$/.test(f.file))?.file ?? files[0]?.file ?? null;
  const wranglerLine = logText.match(/Total Upload:[^\n]*/)?.[0] ?? null;
  const sizes = { rawBytes: raw, gzipBytes: gz, rawKiB: round(raw / 1024, 1), gzipKiB: round(gz / 1024, 1), files, wranglerSays: wranglerLine };
  log(`bundle ${name}: ${sizes.rawKiB} KiB raw, ${sizes.gzipKiB} KiB gzip (${wranglerLine ?? "no wrangler total line"})`);
  return { outdir, entry: entry && path.join(outdir, entry), sizes };
}

/** The code files (.js, .mjs, .cjs, .wasm) under `outdir`, with their raw and gzip sizes. */
function codeFiles(outdir) {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(m?js|cjs|wasm)$/.test(e.name)) {
        const buf = fs.readFileSync(p);
        files.push({ file: path.relative(outdir, p), bytes: buf.length, gzipBytes: zlib.gzipSync(buf, { level: 9 }).length });
      }
    }
  };
  walk(outdir);
  return files;
}

/**
 * A copy of bench/floor/wrangler.toml in `tmp` with an absolute `main`: wrangler writes its
 * .wrangler/ scratch next to the config it runs, and it must not land in the source tree.
 */
export function floorConfigCopy(tmp) {
  const dir = path.join(tmp, "floor-config");
  fs.mkdirSync(dir, { recursive: true });
  const text = fs.readFileSync(path.join(BENCH_DIR, "floor", "wrangler.toml"), "utf8").replace(/^main\s*=.*$/m, `main = ${JSON.stringify(path.join(BENCH_DIR, "floor", "worker.js"))}`);
  const file = path.join(dir, "wrangler.toml");
  fs.writeFileSync(file, text);
  return file;
}
