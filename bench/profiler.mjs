// V8 CPU profiles of a Worker through wrangler dev's inspector proxy (Chrome DevTools Protocol
// over WebSocket).
/* global WebSocket */
import fs from "node:fs";
import path from "node:path";
import { HOST, ROOT } from "./constants.mjs";
import { log } from "./log.mjs";
import { round } from "./stats.mjs";

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

/**
 * Runs `fn` under the V8 sampling profiler of `server`'s Worker and writes
 * `<outDir>/profiles/<name>.cpuprofile`. Resolves `{ value, profile }`: `fn`'s value, and the
 * profile's file and hottest functions (or `{ error }`: then `fn` ran without a profiler).
 */
export async function profiled(server, name, outDir, fn) {
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
  const file = path.join(outDir, "profiles", `${name}.cpuprofile`);
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
