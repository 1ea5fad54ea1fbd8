// The fake outside world (test/world, the one the tests use) served to bench/run.mjs over HTTP on
// 127.0.0.1 only, one server per role:
//  - the destination: the world's Standard Webhooks receiver (the webhook destination posts to
//    /hook; signatures are not checked, the secret is the benchmark's own), after a configurable
//    latency; it counts calls and records when each arrived; under /intercom it answers as the few
//    Intercom endpoints the intercom destination calls (bench/fakeIntercom.mjs);
//  - the LLM: the world's OpenAI-compatible POST /v1/chat/completions, answering a fixed-size
//    summary after a configurable delay; it counts calls and records every prompt's size.
// Both are controlled over loopback HTTP: GET /__fake/stats, POST /__fake/config {latencyMs},
// POST /__fake/reset. Run standalone with `node bench/fakes.mjs` (prints the ports as one JSON
// line; stops on SIGTERM/SIGINT or when stdin closes), or import `startFakes()`. Node 22 runs
// the world's TypeScript as it is.
//
// Times are `Date.now()` (wall clock, ms) so a driver in another process can compare them with
// its own send times.
/* global Request */
import http from "node:http";
import { pathToFileURL } from "node:url";
import { createWorld } from "../test/world/index.ts";
import { createIntercom, INTERCOM_PREFIX } from "./fakeIntercom.mjs";

const MAX_BODY = 8 * 1024 * 1024;
const MAX_RECORDS = 200_000;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Best-effort classification of a destination call: "raw", "summary", "redact" or "other". */
export function classifyDestinationCall(method, path, body) {
  if (method === "DELETE" || /redact/i.test(path)) return "redact";
  let parsed = null;
  try {
    parsed = JSON.parse(body);
  } catch {
    /* not JSON */
  }
  const candidates = [];
  const visit = (o, depth) => {
    if (!o || typeof o !== "object" || depth > 2) return;
    for (const k of ["kind", "type", "event", "event_type"]) if (typeof o[k] === "string") candidates.push(o[k]);
    for (const k of ["data", "note", "payload"]) visit(o[k], depth + 1);
  };
  visit(parsed, 0);
  const joined = candidates.join(" ").toLowerCase();
  if (joined.includes("redact") || joined.includes("delete")) return "redact";
  if (joined.includes("summary")) return "summary";
  if (joined.includes("raw") || joined.includes("actions") || joined.includes("note")) return "raw";
  return "other";
}

const SUMMARY_TEXT =
  "The user browsed the benchmark app, opened several pages and clicked through a settings flow. " +
  "They appear to be configuring an integration; no errors were seen. (fake LLM summary, fixed size)";

/** A fresh world per server, so that a reset forgets everything that server saw. */
const newWorld = () => createWorld({ summaryText: SUMMARY_TEXT });

/** The world's answer to one request, written back to Node's response. */
async function answer(world, req, url, body, res) {
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, { method: req.method, headers: req.headers, body: hasBody ? body : undefined });
  const response = await world.handle(request);
  const text = await response.text();
  res.writeHead(response.status, { ...Object.fromEntries(response.headers), "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function createFake(name, record) {
  const state = { latencyMs: 0, calls: 0, inFlight: 0, maxInFlight: 0, records: [], status: 200 };
  let world = newWorld();
  let intercom = createIntercom();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://127.0.0.1");
      if (url.pathname === "/__fake/stats") return json(res, 200, summarise(state));
      if (url.pathname === "/__fake/records") return json(res, 200, state.records);
      if (url.pathname === "/__fake/reset" && req.method === "POST") {
        Object.assign(state, { calls: 0, maxInFlight: 0, records: [] });
        world = newWorld();
        intercom = createIntercom();
        return json(res, 200, { ok: true });
      }
      if (url.pathname === "/__fake/config" && req.method === "POST") {
        const cfg = JSON.parse((await readBody(req)) || "{}");
        if (Number.isFinite(cfg.latencyMs)) state.latencyMs = Math.max(0, Math.min(60_000, cfg.latencyMs));
        if (Number.isInteger(cfg.status)) state.status = cfg.status;
        return json(res, 200, { ok: true, latencyMs: state.latencyMs, status: state.status });
      }
      const arrivedAt = Date.now();
      const body = await readBody(req);
      state.calls += 1;
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        const entry = { n: state.calls, at: arrivedAt, method: req.method, path: url.pathname, size: body.length };
        record(entry, body);
        if (state.records.length < MAX_RECORDS) state.records.push(entry);
        if (state.latencyMs > 0) await sleep(state.latencyMs);
        if (state.status !== 200) return json(res, state.status, { error: { message: "fake failure" } });
        if (url.pathname.startsWith(INTERCOM_PREFIX)) {
          const { status, json: value } = intercom(req.method, url.pathname, body);
          return json(res, status, value);
        }
        return await answer(world, req, url, body, res);
      } finally {
        state.inFlight -= 1;
      }
    } catch (err) {
      if (!res.headersSent) json(res, 500, { error: String(err?.message ?? err) });
    }
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 60_000;
  server.requestTimeout = 120_000;
  return { name, state, server };
}

function summarise(state) {
  return {
    calls: state.calls,
    latencyMs: state.latencyMs,
    inFlight: state.inFlight,
    maxInFlight: state.maxInFlight,
    maxPromptChars: state.records.reduce((m, r) => Math.max(m, r.promptChars ?? 0), 0),
  };
}

/** The distinct session ids a body mentions (`"session_id":"…"` or `"sessionId":"…"`), at most 8. */
function sessionsIn(body) {
  const found = new Set();
  for (const m of body.matchAll(/"session_?[iI]d"\s*:\s*"([^"]{1,200})"/g)) {
    found.add(m[1]);
    if (found.size >= 8) break;
  }
  return [...found];
}

function recordDestinationCall(record, body) {
  record.kind = classifyDestinationCall(record.method, record.path, body);
  // Keep enough of the body to find the session it belongs to; never the whole thing.
  record.sessions = sessionsIn(body);
  record.head = body.slice(0, 1_000);
}

function recordLlmCall(record, body) {
  let promptChars = 0;
  try {
    for (const m of JSON.parse(body).messages ?? []) {
      if (typeof m.content === "string") promptChars += m.content.length;
      else if (Array.isArray(m.content)) for (const p of m.content) promptChars += (p?.text ?? "").length;
    }
  } catch {
    promptChars = body.length;
  }
  record.promptChars = promptChars;
  record.head = body.slice(0, 2_000);
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server.address().port));
  });
}

/** Starts both fakes on 127.0.0.1. Ports 0 pick free ones. */
export async function startFakes({ destinationPort = 0, llmPort = 0 } = {}) {
  const destination = createFake("destination", recordDestinationCall);
  const llm = createFake("llm", recordLlmCall);
  const ports = {
    destination: await listen(destination.server, destinationPort),
    llm: await listen(llm.server, llmPort),
  };
  const close = () =>
    Promise.all(
      [destination, llm].map(
        (f) =>
          new Promise((r) => {
            f.server.closeAllConnections?.();
            f.server.close(() => r());
          }),
      ),
    );
  return { ports, destination, llm, close };
}

// Standalone: `node bench/fakes.mjs [--destination-port N] [--llm-port N]`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : 0;
  };
  const fakes = await startFakes({ destinationPort: arg("--destination-port"), llmPort: arg("--llm-port") });
  process.stdout.write(JSON.stringify({ ready: true, ...fakes.ports }) + "\n");
  const stop = async () => {
    await fakes.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // When the parent goes away (its end of our stdin closes), stop too.
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}
