// The report's cost sections: the price per million actions (one table), the idle week, and the
// burst's figures. Plain Markdown from the results object.
import { PRICES } from "./prices.mjs";

const n = (x, d = 0) => (x === null || x === undefined ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: d }));
const usd = (x) => (x === null || x === undefined ? "—" : `$${x.toFixed(x < 0.1 ? 4 : 3)}`);
const cells = (xs) => `| ${xs.join(" | ")} |`;

export function priceSection(price) {
  const { load, rows } = price;
  const p = PRICES.usd;
  const lines = [
    "## Price per million actions",
    "",
    `Load: ${load.sessions} sessions × ${load.windows} windows × ${load.batchesPerWindow} batches of ${load.actionsPerBatch} actions (K=${load.threshold}), a window's batches back to back, ${load.pauseMs} ms between windows; each configuration on its own server with METER=on, read once drained. Counts are exact (the meter counts each operation), so they hold on any machine; CPU ms is measured (/proc) and varies with the machine.`,
    "",
    "| configuration | Worker requests | DO requests (RPC + alarms) | rows read | rows written | stored bytes | destination calls | LLM calls | tokens (prompt / completion) | CPU ms | Cloudflare $ (requests / DO / rows / storage / CPU) | $ total | ÷ floor |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const m = r.perMillion;
    const c = r.costUsd;
    lines.push(
      cells([
        r.key === "floor" ? "floor (one INSERT per request)" : `${r.destination}, DEBOUNCE_MS=${r.debounceMs}`,
        n(m.workerRequests),
        `${n(m.doRequests)} (${n(m.rpcs)} + ${n(m.alarms)})`,
        n(m.rowsRead),
        n(m.rowsWritten),
        n(m.storedBytes),
        n(m.destinationCalls),
        n(m.llmCalls),
        `${n(m.promptTokens)} / ${n(m.completionTokens)}`,
        n(m.cpuMs),
        [c.workerRequests, c.doRequests, c.rowsRead + c.rowsWritten, c.storage, c.cpu].map(usd).join(" / "),
        `**${usd(c.total)}**`,
        r.costRatioToFloor === null ? "—" : n(r.costRatioToFloor, 2),
      ]),
    );
  }
  lines.push(
    "",
    `Prices (USD, read ${PRICES.retrieved}): Workers requests $${p.workerRequestsPerMillion}/million, CPU $${p.cpuPerMillionMs}/million ms; Durable Objects requests $${p.doRequestsPerMillion}/million, rows read $${p.rowsReadPerMillion}/million, rows written $${p.rowsWrittenPerMillion}/million (each setAlarm is one), stored data $${p.storagePerGbMonth}/GB-month. Sources: ${PRICES.sources.join(", ")}.`,
    ...PRICES.notes.map((x) => `- ${x}`),
    "- Every figure is per million actions: the run's count × 1,000,000 ÷ the actions sent. Target: store ≤ 2× the floor's cost (Figures below).",
    `- Stored bytes: the sessions' databases once drained, ${rows.map((r) => `${r.key} ${n(r.storedBytesPerSession)}`).join(", ")} bytes per session (mostly schema and SQLite pages, not actions), so their share per million actions shrinks as sessions run longer than this load's ${n(load.windows * load.batchesPerWindow * load.actionsPerBatch)} actions.`,
    "- Exact for the load: requests, RPCs, LLM calls and tokens. Alarms, and how many raw notes (and redactions) the batches become, also depend on how arrivals meet the alarm (timing).",
    "",
  );
  return lines;
}

export function idleSection(idle) {
  const lines = [
    "## Idle week (simulated, exact)",
    "",
    "| sessions | case | alarms per session (max / mean) | erased at retention | Cloudflare $ per million idle sessions per week |",
    "|---:|---|---:|---:|---:|",
  ];
  for (const r of idle.rows) lines.push(cells([n(r.sessions), r.label, `${n(r.maxAlarms)} / ${n(r.meanAlarms, 2)}`, n(r.expired), usd(r.usdPerMillionSessionsPerWeek)]));
  lines.push("", "SessionCore on node:sqlite with the actor's alarm policy on a fake clock (test/core/idleWeek.test.ts), one batch of 5 actions per session, then a week of nothing. Priced as one Durable Object request and one alarm write per wake-up; the SQL rows of a wake-up are not counted in Node.", "");
  return lines;
}

/** Figures-table rows for the burst scenario (its targets are added with the others). */
export function burstRows(b, row, fmt) {
  if (!b || b.error) return [];
  return [
    ["actions / batches (LLM latency)", `${fmt(b.actions)} / ${fmt(b.batches)} (${fmt(b.llmMs, " ms")})`],
    ["ingest, 429 refusals (Retry-After)", `${fmt(b.ingestS, " s")}, ${fmt(b.refusals)}${b.retryAfterS ? ` (${b.retryAfterS.min}–${b.retryAfterS.max} s)` : ""}`],
    ["drain after the last batch", fmt(b.drainS, " s")],
    ["alarms / rows written (meter)", `${fmt(b.alarms)} / ${fmt(b.rowsWritten)}`],
    ["rows kept at the end", fmt(b.finalRows)],
  ].map(([name, value]) => row([`burst (${b.destination}): ${name}`, value, "", ""]));
}
