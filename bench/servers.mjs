// Starts every server the chosen scenarios need, all at once (start-up is not measured), and
// stops them one by one, keeping a summary of each one's log.
import fs from "node:fs";
import path from "node:path";
import { API_TOKEN, HOST, ROOT } from "./constants.mjs";
import { startFakes } from "./fakesProcess.mjs";
import { INTERCOM_PREFIX } from "./fakeIntercom.mjs";
import { freezeOurs } from "./freezeOurs.mjs";
import { log } from "./log.mjs";
import { killGroup } from "./processes.mjs";
import { recordError } from "./results.mjs";
import { priceConfigs } from "./scenarios/price.mjs";
import { buildBundle, floorConfigCopy, startWorker } from "./wrangler.mjs";

/** Our worker's settings for the bench: webhook destination and LLM on the fakes, then `extra`. */
function ourVars(ctx, fakes, extra = {}) {
  return {
    API_TOKEN,
    DESTINATION: "webhook",
    WEBHOOK_URL: `http://${HOST}:${fakes.ports.destination}/hook`,
    WEBHOOK_SECRET: `whsec_${Buffer.from("context-relay-bench-secret-32by!").toString("base64")}`,
    LLM_BASE_URL: `http://${HOST}:${fakes.ports.llm}/v1`,
    LLM_API_KEY: "bench",
    LLM_MODEL: "bench",
    SUMMARY_THRESHOLD: String(ctx.profile.threshold),
    DEBOUNCE_MS: "0",
    // The load drives one session far faster than its LLM lane can summarise. With the default
    // backlog bound it is refused (429 session_backlog) past 2,000 pending actions, as it should
    // be; these figures measure the write path, so the bound is raised out of the way.
    SESSION_MAX_PENDING_ACTIONS: "1000000",
    SESSION_MAX_PENDING_BYTES: String(1024 ** 3),
    ...(ctx.argv.logs ? {} : { LOG_LEVEL: "warn" }),
    ...extra,
  };
}

/** A priced configuration's settings: its destination (Intercom on the fake's /intercom), its debounce, the meter on. */
function priceVars(ctx, fakes, { destination, debounceMs }) {
  const intercom = {
    INTERCOM_ACCESS_TOKEN: "bench-intercom-token",
    INTERCOM_ADMIN_ID: "1",
    INTERCOM_API_BASE: `http://${HOST}:${fakes.ports.destination}${INTERCOM_PREFIX}`,
  };
  return { ...ourVars(ctx, fakes, { DESTINATION: destination, DEBOUNCE_MS: String(debounceMs), METER: "on" }), ...(destination === "intercom" ? intercom : {}) };
}

/**
 * Bundles and starts what `ctx.only` needs. A server that fails to start is recorded as an error
 * and is null, and so are the servers of scenarios that were not chosen. `bundle` is the bundle
 * scenario's figures (null when not chosen); `source` says which code "ours" runs.
 */
export async function startServers(ctx) {
  const { only, profile, tmp } = ctx;
  const oursEntry = ctx.oursConfig ?? path.join(ROOT, "src/worker.ts");
  const haveOurs = fs.existsSync(oursEntry);
  const needOurs = ["ingest", "isolation", "long", "burst", "price", "fanout", "userActivity", "stream"].some((s) => only.has(s));
  const needCoalescing = only.has("coalescing");
  const missing = `${path.relative(ROOT, oursEntry)} does not exist yet`;
  if ((needOurs || needCoalescing) && !haveOurs) recordError(ctx.results, "ours", new Error(`${missing}: scenarios against our worker skipped`));
  const settled = async (key, promise) => {
    try {
      return await promise;
    } catch (err) {
      recordError(ctx.results, key, err);
      return null;
    }
  };
  const start = (name, options) => startWorker(name, options, { tmp, startupMaxMs: profile.startupMaxMs });
  const floorConfig = floorConfigCopy(tmp);
  const floorBuildP = settled("bundle", only.has("bundle") ? buildBundle("floor", floorConfig, { tmp }) : null);
  const floorP = settled("floor", only.has("floor") || only.has("price") ? start("floor", { config: floorConfig }) : null);
  const needFakes = (haveOurs && (needOurs || needCoalescing)) || (only.has("floor") && only.has("ingest"));
  const fakesP = settled("fakes", needFakes ? startFakes(tmp) : null);
  const frozen = await settled("ours", haveOurs && (needOurs || needCoalescing || only.has("bundle")) ? freezeOurs({ tmp, ref: ctx.argv.ref, oursConfig: ctx.oursConfig }) : null);
  const fakes = await fakesP;
  const canRunOurs = Boolean(frozen && fakes);
  const startOurs = (name, wanted, extra) => settled(name, canRunOurs && wanted ? start(name, { config: frozen.config, vars: ourVars(ctx, fakes, extra) }) : null);
  const pricedP = canRunOurs && only.has("price") ? Promise.all(priceConfigs(profile).map(async (c) => [c.key, await startOurs(`price-${c.key}`, true, priceVars(ctx, fakes, c))])) : [];
  const [ours, oursStore, oursIngestOnly, coalescing, burstStore, burstWebhook, fanout, stream] = await Promise.all([
    // Webhook + LLM fakes: the isolation scenario slows them down; the long session counts their calls.
    startOurs("ours", ["isolation", "long"].some((s) => only.has(s))),
    // The ingest figures are for the store destination (the default), LLM on the fake; a user's activity is read from it too.
    startOurs("ours-store", only.has("ingest") || only.has("userActivity"), { DESTINATION: "store" }),
    startOurs("ours-ingest-only", only.has("ingest"), { DEBOUNCE_MS: "600000", DEBOUNCE_MAX_MS: "600000", SUMMARY_THRESHOLD: "1000" }),
    startOurs("coalescing", needCoalescing, { DEBOUNCE_MS: "200", SUMMARY_THRESHOLD: "1000" }),
    // The default backlog bound: the burst is refused (429) while the LLM catches up.
    // The store (the default) and the webhook (what the 4,005-row figure was measured with).
    startOurs("burst-store", only.has("burst"), { DESTINATION: "store", SESSION_MAX_PENDING_ACTIONS: "", SESSION_MAX_PENDING_BYTES: "", METER: "on" }),
    startOurs("burst-webhook", only.has("burst"), { SESSION_MAX_PENDING_ACTIONS: "", SESSION_MAX_PENDING_BYTES: "", METER: "on" }),
    // Webhook + LLM fakes; its products name one webhook or two (bench/scenarios/fanout.mjs).
    startOurs("fanout", only.has("fanout")),
    // Every product streams (bench/scenarios/stream.mjs); the LLM on the fake.
    startOurs("stream", only.has("stream"), { DESTINATION: "stream" }),
  ]);
  const floor = await floorP;
  // The floor plus the least a window's summary costs (bench/floor/worker.js), for the ingest scenario.
  const floorSummary =
    fakes && only.has("floor") && only.has("ingest")
      ? await settled("floor-summary", start("floor-summary", { config: floorConfig, vars: { LLM_URL: `http://${HOST}:${fakes.ports.llm}/v1/chat/completions` } }))
      : null;
  const priced = Object.fromEntries((await pricedP).filter(([, server]) => server));
  const floorBuild = await floorBuildP;
  const bundle = only.has("bundle")
    ? {
        ours: frozen ? frozen.sizes : { error: haveOurs ? "bundling failed (see errors)" : missing },
        floor: floorBuild ? floorBuild.sizes : { error: "bundling failed (see errors)" },
      }
    : null;
  const burst = { store: burstStore, webhook: burstWebhook };
  return { fakes, source: frozen?.source ?? null, bundle, ours, oursStore, oursIngestOnly, floor, floorSummary, coalescing, burst, priced, fanout, stream };
}

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

/** Stops `server` (a no-op for null) and records its port, start-up time and log health. */
export async function stopServer(results, server) {
  if (!server) return;
  await killGroup(server.child);
  const health = logHealth(server);
  (results.servers ??= {})[server.name] = { port: server.port, startupMs: server.startupMs, log: health };
  if (health?.problemLines) log(`${server.name}: ${health.problemLines} error/exception line(s) in its log, first: ${health.firstProblems[0]}`);
}
