// CPU time of a server's process group, from /proc (Linux; {} elsewhere).
//
// wrangler dev runs two workerd processes: a proxy bound to the dev port (wrangler's ProxyWorker)
// and the runtime that runs the user's Worker and Durable Objects. They are reported apart
// (`workerdProxy`, `workerdUser`), plus `workerd` (both) and `node` (wrangler itself).
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { HOST } from "./constants.mjs";
import { round } from "./stats.mjs";

const CLK_TCK = 100;
const roleCache = new Map();

/** CPU ms used so far by each kind of process in `server`'s group. */
export function groupCpuMs(server) {
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
      key = workerdRole(server, pid);
      byName.workerd = (byName.workerd ?? 0) + ms;
    }
    byName[key] = (byName[key] ?? 0) + ms;
  }
  return byName;
}

function workerdRole(server, pid) {
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
  return role;
}

export function cpuDelta(a, b) {
  const out = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = (b[k] ?? 0) - (a[k] ?? 0);
  return out;
}

/** CPU µs per accepted request; null without requests or without a figure for that process. */
export const usPerRequest = (ms, ok) => (ok > 0 && ms !== undefined ? round((ms * 1000) / ok, 0) : null);

/** Waits until workerd in `server`'s group burns < ~5% of a core for two samples in a row. */
export async function settle(server, maxMs) {
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
