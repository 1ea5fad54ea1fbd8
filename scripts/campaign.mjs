#!/usr/bin/env node
// `npm run campaign -- --seeds N [--first S]`: runs the fault campaign (test/campaign) for N seeds
// in the workerd test pool and prints one table: seeds, sessions and their lanes (two destinations
// each, one faulty), operations, faults injected by kind, invariant violations (must be 0) and
// actions accepted vs covered. Exits non-zero on any violation.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} needs a whole number, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return value;
}

const seeds = option("seeds", 200);
const first = option("first", 1);
const dir = mkdtempSync(join(tmpdir(), "campaign-"));
const report = join(dir, "report.json");
const started = performance.now();

// Every campaign project (one per summary mode, each with its own K) runs its share of the seeds.
const args = ["vitest", "run", "--project", "campaign-*", "test/campaign/campaign.test.ts", "--reporter=dot", "--reporter=json", `--outputFile.json=${report}`];
const child = spawn("npx", args, {
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, CAMPAIGN_SEEDS: String(seeds), CAMPAIGN_FIRST_SEED: String(first) },
});
const code = await new Promise((resolve) => child.on("exit", (c, signal) => resolve(signal ? 1 : (c ?? 1))));
const seconds = (performance.now() - started) / 1000;

let results;
try {
  results = JSON.parse(readFileSync(report, "utf8"));
} catch {
  console.error(`vitest wrote no report (exit code ${code})`);
  process.exit(1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const tests = results.testResults.flatMap((file) => file.assertionResults);
const runs = tests.map((t) => ({ status: t.status, title: t.title, meta: t.meta?.campaign })).filter((t) => t.meta);
const failedTests = tests.filter((t) => t.status === "failed");
const sum = (pick) => runs.reduce((n, r) => n + pick(r.meta), 0);
const faults = new Map();
const byInvariant = new Map();
for (const { meta } of runs) {
  for (const [kind, n] of Object.entries(meta.faults)) faults.set(kind, (faults.get(kind) ?? 0) + n);
  for (const v of meta.violations) byInvariant.set(v.invariant, (byInvariant.get(v.invariant) ?? 0) + 1);
}
const violations = sum((m) => m.violations.length);
const accepted = sum((m) => m.accepted);
const covered = sum((m) => m.covered);
const fmt = (n) => n.toLocaleString("en-US");

const rows = [
  ["seeds", `${fmt(runs.length)} (${first}–${first + seeds - 1}); ${fmt(runs.length - failedTests.length)} clean, ${fmt(failedTests.length)} failed`],
  ["sessions", fmt(sum((m) => m.sessions))],
  ["lanes (sessions × destinations, one faulty)", fmt(sum((m) => m.lanes))],
  ["operations (steps driven)", fmt(sum((m) => m.ops))],
  ["faults injected", fmt([...faults.values()].reduce((a, b) => a + b, 0))],
  ...[...faults.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => [`  ${kind}`, fmt(n)]),
  ["actor crashes (abort mid-await)", fmt(sum((m) => m.crashes))],
  ["graceful evictions", fmt(sum((m) => m.evictions))],
  ["LLM calls", fmt(sum((m) => m.llmCalls))],
  ["LLM breaker openings", fmt(sum((m) => m.breakerOpens))],
  ["redeliveries deduped by receiver", fmt(sum((m) => m.redeliveries))],
  ["invariant violations", fmt(violations)],
  ...[...byInvariant.entries()].sort().map(([id, n]) => [`  ${id}`, fmt(n)]),
  ["actions accepted", fmt(accepted)],
  ["actions covered by a posted summary in every lane", `${fmt(covered)} (${accepted ? ((100 * covered) / accepted).toFixed(1) : "100.0"}%)`],
  ["wall time", `${seconds.toFixed(1)} s`],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`\nFault campaign\n${"-".repeat(width + 24)}`);
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
for (const t of failedTests.slice(0, 10)) {
  const first = t.meta?.campaign?.violations?.[0];
  console.log(`FAILED ${t.title}${first ? `: [${first.invariant}] ${first.message}` : ""}`);
}
process.exit(violations > 0 || failedTests.length > 0 || runs.length !== seeds || code !== 0 ? 1 : 0);
