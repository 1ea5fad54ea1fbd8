// Child processes. Each child leads its own process group and is killed as a group: wrangler
// leaves workerd processes behind when only its Node leader dies.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT } from "./constants.mjs";
import { log } from "./log.mjs";

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

/**
 * Spawns `cmd` as the leader of a new process group, its output appended to `logFile`; with
 * `pipeStdout` only stderr goes there and the caller reads `child.stdout`.
 * `child.exited` resolves with `{ code, signal }`.
 */
export function spawnGroup(name, cmd, args, { logFile, pipeStdout = false, stdin = "ignore", cwd = ROOT, env = {} }) {
  const out = fs.openSync(logFile, "a");
  const child = spawn(cmd, args, { cwd, env: { ...childEnv(), ...env }, detached: true, stdio: [stdin, pipeStdout ? "pipe" : out, out] });
  fs.closeSync(out);
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.once("error", (err) => log(`${name}: ${err.message}`));
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* the group is already empty */
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs`; a group whose leader exited may still have members. */
export async function killGroup(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    signalGroup(child, "SIGKILL");
    return;
  }
  signalGroup(child, "SIGTERM");
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  signalGroup(child, "SIGKILL"); // stragglers (workerd) even when the leader exited
  if (!done) await Promise.race([child.exited, sleep(2_000)]);
}

export async function killAll() {
  await Promise.all([...children].map((c) => killGroup(c)));
}

/** For `process.on("exit")`, where nothing can be awaited. */
export function killAllNow() {
  for (const c of children) signalGroup(c, "SIGKILL");
}
