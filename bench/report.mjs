// The run's report: latest.json (the results as they are) and latest.md (tables of the figures).
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./constants.mjs";
import { log } from "./log.mjs";
import { burstRows, idleSection, priceSection } from "./reportCost.mjs";

/** Writes `outDir`/latest.json and latest.md and prints the Markdown. */
export function writeReport(results, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "latest.json"), JSON.stringify(results, null, 2) + "\n");
  let md;
  try {
    md = markdown(results);
  } catch (err) {
    md = `# Context Relay benchmark\n\nThe Markdown report failed (${err.message}); see latest.json.\n`;
  }
  fs.writeFileSync(path.join(outDir, "latest.md"), md);
  console.log("\n" + md);
  log(`wrote ${path.relative(ROOT, path.join(outDir, "latest.json"))} and latest.md`);
}

function fmt(x, unit = "") {
  if (x === null || x === undefined) return "—";
  return `${typeof x === "number" ? x.toLocaleString("en-US", { maximumFractionDigits: 2 }) : x}${unit}`;
}

/** A Markdown table row; an empty cell renders as `| |`. */
const row = (cells) => `|${cells.map((c) => (c === "" ? " " : ` ${c} `)).join("|")}|`;

function markdown(results) {
  const m = results.machine;
  const p = results.profile;
  const src = results.source;
  const lines = [
    `# Context Relay benchmark (${p.name})`,
    "",
    `Command: \`${results.command}\` · run ${results.runId} · ${results.startedAt} · ${results.durationS} s`,
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memGiB} GiB, ${m.platform}; Node ${m.node}; workerd ${m.workerd} (wrangler dev's; top-level ${m.workerdTopLevel}); wrangler ${m.wrangler}; load average at start ${m.loadavgAtStart.join(" ")}, at end ${m.loadavgAtEnd?.join(" ")}`,
  ];
  if (src) lines.push(`Worker measured: ${src.kind === "git" ? `git ${src.ref} = ${src.commit}` : `working tree at ${src.commit} with ${src.uncommittedChanges} uncommitted file(s) under src/ and config`}, frozen as bundle ${src.bundleSha256} for the whole run.`);
  lines.push(`Load: concurrency ${p.concurrency}, ${p.actionsPerBatch} actions per batch, ${p.ingestSeconds} s per phase, ${p.rounds} round(s) (medians shown), K=${p.threshold}; local \`wrangler dev\` (workerd), everything on 127.0.0.1.`, "");
  const S = results.scenarios;
  if (S.ingest?.summary) lines.push(...ingestSection(S.ingest));
  if (S.isolation?.summary) lines.push(...isolationSection(S.isolation, p));
  if (S.fanout?.summary) lines.push(...fanoutSection(S.fanout));
  if (S.userActivity?.mcp) lines.push(...userActivitySection(S.userActivity));
  if (S.stream?.summary) lines.push(...streamSection(S.stream));
  if (S.price?.rows) lines.push(...priceSection(S.price));
  if (S.idle?.rows) lines.push(...idleSection(S.idle));
  lines.push(...figuresSection(results));
  if (results.errors.length) {
    lines.push("## Errors", "");
    for (const e of results.errors) lines.push(`- **${e.scenario}**: ${e.message.split("\n")[0].slice(0, 400)}`);
    lines.push("");
  }
  lines.push("Ratios to the floor are the median of the per-round ratios (each round runs ours and the floor back to back, in rotating order). The machine is shared; treat differences under ~10% as noise. Details, per-round figures and the ratio of medians are in `latest.json`.");
  return lines.join("\n") + "\n";
}

function ingestSection(ingest) {
  const lines = [
    "## Ingest (POST /v1/actions)",
    "",
    "| worker | sessions | requests/s | actions/s | p50 ms | p99 ms | ÷ floor: throughput | ÷ floor: p99 | ÷ floor: CPU per batch | runtime CPU µs/req (load / +background) | failed |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const key of Object.keys(ingest.targets)) {
    for (const load of ["one", "many"]) {
      const x = ingest.summary[key]?.[load];
      const r = ingest.ratios?.[key]?.[load];
      if (x) lines.push(row([key, fmt(x.sessions), fmt(x.rps), fmt(x.actionsPerS), fmt(x.p50Ms), fmt(x.p99Ms), fmt(r?.throughput), fmt(r?.p99), fmt(r?.cpuPerBatch), `${fmt(x.cpuUsPerRequestDuringLoad)} / ${fmt(x.cpuUsPerRequest)}`, fmt(x.failed)]));
    }
  }
  lines.push("");
  for (const [key, label] of Object.entries(ingest.targets)) if (ingest.summary[key]) lines.push(`- ${key}: ${label}`);
  lines.push("- runtime CPU: the workerd process running the Worker and its Durable Objects (from /proc), per accepted request (one batch), during the load and including the background work it left (until idle). wrangler dev's proxy workerd and its Node process add the same fixed cost to every worker and are left out. CPU per batch ÷ floor: the median of the per-round ratios, background included.", "");
  return lines;
}

function isolationSection(isolation, p) {
  const lines = [
    "## Isolation from slow I/O (ingest p99, ms)",
    "",
    `| sessions | base | destination ${p.isolationDestMs} ms | ratio | LLM ${p.isolationLlmMs / 1000} s | ratio | requests/s (base / dest / LLM) | runtime CPU µs/req (base / dest / LLM) | CPU ratio (dest / LLM) |`,
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const conditions = ["base", "slowDestination", "slowLlm"];
  for (const load of ["one", "many"]) {
    const s = isolation.summary[load];
    const each = (pick) => conditions.map((c) => fmt(pick(s[c]))).join(" / ");
    if (s) lines.push(row([fmt(s.sessions), fmt(s.base.p99Ms), fmt(s.slowDestination.p99Ms), fmt(s.ratioSlowDestination), fmt(s.slowLlm.p99Ms), fmt(s.ratioSlowLlm), each((x) => x.rps), each((x) => x.cpuUsPerRequestDuringLoad), `${fmt(s.cpuRatioSlowDestination)} / ${fmt(s.cpuRatioSlowLlm)}`]));
  }
  lines.push("", "p99 columns: medians over rounds; ratios: the median of each round's ratio (the three conditions of a round ran back to back).", "");
  return lines;
}

function fanoutSection(fanout) {
  const lines = [
    "## Fan-out: one webhook vs two (ingest)",
    "",
    "| sessions | webhooks | requests/s | actions/s | p50 ms | p99 ms | runtime CPU µs/req (load / +background) | raw / summary / redact per webhook | LLM calls | failed |",
    "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
  ];
  for (const load of ["one", "many"]) {
    const s = fanout.summary[load];
    if (!s) continue;
    for (const key of Object.keys(fanout.setups)) {
      const x = s[key];
      const per = Object.entries(x.deliveries).map(([hook, d]) => `${hook}: ${fmt(d.raw)} / ${fmt(d.summary)} / ${fmt(d.redact)}`).join("; ");
      lines.push(row([fmt(s.sessions), fmt(x.destinations), fmt(x.rps), fmt(x.actionsPerS), fmt(x.p50Ms), fmt(x.p99Ms), `${fmt(x.cpuUsPerRequestDuringLoad)} / ${fmt(x.cpuUsPerRequest)}`, per, fmt(x.llmCalls), fmt(x.failed)]));
    }
    lines.push(row([fmt(s.sessions), "two ÷ one", fmt(s.ratio.throughput), "", "", fmt(s.ratio.p99), `CPU per batch ${fmt(s.ratio.cpuPerBatch)}`, "", "", ""]));
  }
  lines.push("", "One server; a product with one webhook and a product with two, the same load each, in rotating order. Figures: medians over rounds; ratios: the median of the per-round ratios. Deliveries: calls each webhook received in the phase, counted once it drained; the LLM is shared (one summary per window for both lanes).", "");
  return lines;
}

function userActivitySection(u) {
  return [
    `## A user's activity (get_live_user_activity, ${u.sessions} sessions)`,
    "",
    "| surface | requests | p50 ms | p99 ms | max ms | failed |",
    "|---|---:|---:|---:|---:|---:|",
    row(["MCP: POST /mcp tools/call", fmt(u.requests), fmt(u.mcp.p50Ms), fmt(u.mcp.p99Ms), fmt(u.mcp.maxMs), fmt(u.mcp.failed)]),
    row(["REST: GET …/users/:u/activity", fmt(u.requests), fmt(u.rest.p50Ms), fmt(u.rest.p99Ms), fmt(u.rest.maxMs), fmt(u.rest.failed)]),
    "",
    `One client, sequential requests, limit ${u.limit}; each of the user's sessions holds ${u.actionsPerSession} actions, a posted summary and the actions it does not cover. Each call reads the product's index, then the ${u.sessions} sessions at once.`,
    "",
  ];
}

function streamSection(stream) {
  const lines = [
    "## Stream: ingest with 0 and 10 SSE subscribers",
    "",
    "| sessions | subscribers | requests/s | p50 ms | p99 ms | workerd CPU µs/req | POST → frame p50 / p99 ms | probes (not seen) | dropped | failed |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const load of ["one", "many"]) {
    const s = stream.summary[load];
    if (!s) continue;
    for (const n of [0, 10]) {
      const x = s[n];
      const lat = n > 0 ? `${fmt(x.latencyP50Ms)} / ${fmt(x.latencyP99Ms)}` : "";
      lines.push(row([fmt(s.sessions), fmt(n), fmt(x.rps), fmt(x.p50Ms), fmt(x.p99Ms), fmt(x.cpuUsPerRequest), lat, n > 0 ? `${fmt(x.probes)} (${fmt(x.probesLost)})` : "", n > 0 ? fmt(x.dropped) : "", fmt(x.failed)]));
    }
    lines.push(row([fmt(s.sessions), "ratio", `10 ÷ 0: ${fmt(s.ratio.throughput)}`, "", `0 ÷ 10: ${fmt(s.ratio.p99)}`, `10 ÷ 0: ${fmt(s.ratio.cpuPerRequest)}`, "", "", "", ""]));
    lines.push(row([fmt(s.sessions), "per round", s.perRound.map((q) => fmt(q.throughput)).join(", "), "", s.perRound.map((q) => fmt(q.p99)).join(", "), s.perRound.map((q) => fmt(q.cpuPerRequest)).join(", "), "", "", "", ""]));
  }
  lines.push("", "One server, every product streaming (DESTINATION=stream); the two phases of a round back to back, in rotating order. Figures: medians over rounds; ratios: the median of the per-round ratios (≥ 0.95: subscribers cost ingest at most 5 %); workerd CPU per request (the Worker, the session actors and the hub, the subscribers' SSE included) is the noise-resistant companion on a shared machine. Latency: a probe batch every 25 ms in its own session, from the start of its POST to its frame at a subscriber, while the load runs.", "");
  return lines;
}

function figuresSection(results) {
  const S = results.scenarios;
  const lines = ["## Figures and targets", "", "| figure | value | target | met |", "|---|---:|---|:-:|"];
  const c = S.coalescing?.summary;
  if (c) lines.push(row([`coalescing: first action → destination (median of ${c.reps})`, fmt(c.firstActionToDestinationMsMedian, " ms"), "DEBOUNCE_MS=200", ""]));
  const l = S.long;
  if (l && !l.error) {
    const figures = [
      ["actions / batches", `${fmt(l.actions)} / ${fmt(l.batches)}`],
      ["ingest (one client, sequential)", `${fmt(l.ingest.seconds, " s")}, p50 ${fmt(l.ingest.p50Ms, " ms")}, p99 ${fmt(l.ingest.p99Ms, " ms")}`],
      ["LLM calls while ingest ran / after", `${fmt(l.llmCallsDuringIngest)} / ${fmt(l.llmCalls - l.llmCallsDuringIngest)}`],
      ["drain after ingest", fmt(l.quiescence.drainSeconds, " s")],
      ["peak pending actions / unsummarised windows", `${fmt(l.peaks.pendingActions)} / ${fmt(l.peaks.unsummarisedWindows)}`],
      ["storage bytes", fmt(l.storageBytes)],
      ["largest prompt (chars)", fmt(l.promptChars.max), "flat"],
    ];
    for (const [name, value, goal = ""] of figures) lines.push(row([`long session: ${name}`, value, goal, ""]));
  }
  for (const b of Object.values(S.burst ?? {})) lines.push(...burstRows(b, row, fmt));
  const b = S.bundle;
  for (const key of ["ours", "floor"]) {
    if (b?.[key] && !b[key].error) lines.push(row([`bundle (${key}): raw / gzip`, `${fmt(b[key].rawKiB, " KiB")} / ${fmt(b[key].gzipKiB, " KiB")}`, "", ""]));
    else if (b?.[key]?.error) lines.push(row([`bundle (${key})`, "error", "", ""]));
  }
  for (const t of results.targets) lines.push(row([t.name, fmt(t.value), t.goal, t.met === null ? "?" : t.met ? "✅" : "❌"]));
  lines.push("");
  return lines;
}
