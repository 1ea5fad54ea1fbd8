// The run's results object (written as latest.json): what ran where, each scenario's figures,
// the targets met or missed, and the errors.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./constants.mjs";
import { log } from "./log.mjs";
import { round } from "./stats.mjs";

export function createResults({ runId, command, profile }) {
  return {
    tool: "bench/run.mjs",
    runId,
    command,
    startedAt: new Date().toISOString(),
    profile,
    machine: machineInfo(),
    scenarios: {},
    targets: [],
    errors: [],
  };
}

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

/** A figure and its goal; `met` is null when the figure could not be measured. */
export function target(results, name, value, goal, met) {
  results.targets.push({ name, value, goal, met: met === null || met === undefined ? null : Boolean(met) });
}

export function recordError(results, scenario, err) {
  const message = err?.stack ?? String(err);
  log(`ERROR in ${scenario}: ${message.split("\n").slice(0, 12).join("\n")}`);
  results.errors.push({ scenario, message: String(err?.message ?? err).slice(0, 4_000) });
}
