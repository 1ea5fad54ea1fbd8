// Cloudflare's published prices (Workers Paid, Standard usage model; SQLite-backed Durable Objects),
// the marginal rates past each monthly allowance, and what a metered load costs at them. Pure.
//
// Source, read 2026-12-01 (cloudflare/cloudflare-docs, as published on developers.cloudflare.com):
//  - https://developers.cloudflare.com/workers/platform/pricing/ (docs commit 07acbb66)
//  - https://developers.cloudflare.com/durable-objects/platform/pricing/ (pricing partial, commit 07e200b7):
//    "Each setAlarm() is billed as a single row written", "Deletes are counted as rows written".

export const PRICES = {
  retrieved: "2026-12-01",
  sources: ["https://developers.cloudflare.com/workers/platform/pricing/", "https://developers.cloudflare.com/durable-objects/platform/pricing/"],
  usd: {
    workerRequestsPerMillion: 0.3,
    cpuPerMillionMs: 0.02,
    doRequestsPerMillion: 0.15,
    rowsReadPerMillion: 0.001,
    rowsWrittenPerMillion: 1.0,
    storagePerGbMonth: 0.2,
  },
  notes: [
    "Marginal rates past the monthly allowances (10 M requests, 30 M CPU ms, 1 M DO requests, 25 B rows read, 50 M rows written, 5 GB-month) and the $5 plan minimum.",
    "Durable Object duration ($12.50 / million GB-s, wall clock while active) is not priced: it cannot be measured under wrangler dev.",
    "Stored bytes are priced as if kept one month (sessions are erased after SESSION_RETENTION_MS, 7 days by default).",
    "Destination calls are subrequests (not billed by Cloudflare); LLM tokens are the provider's, so neither is priced here.",
  ],
};

/** `counts` (a meter's, scaled to per million actions) and CPU ms, in USD per million actions, itemised. */
export function costOf({ workerRequests, doRequests, rowsRead, rowsWritten, storedBytes, cpuMs }) {
  const p = PRICES.usd;
  const items = {
    workerRequests: (workerRequests / 1e6) * p.workerRequestsPerMillion,
    doRequests: (doRequests / 1e6) * p.doRequestsPerMillion,
    rowsRead: (rowsRead / 1e6) * p.rowsReadPerMillion,
    rowsWritten: (rowsWritten / 1e6) * p.rowsWrittenPerMillion,
    storage: (storedBytes / 1e9) * p.storagePerGbMonth,
    cpu: cpuMs === null ? 0 : (cpuMs / 1e6) * p.cpuPerMillionMs,
  };
  return { ...items, total: Object.values(items).reduce((a, b) => a + b, 0) };
}
