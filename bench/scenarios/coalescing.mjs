// Scenario 4: 20 batches within 100 ms to one session, DEBOUNCE_MS=200 (its own server).
import { setTimeout as sleep } from "node:timers/promises";
import { isOk, sendBatch } from "../client.mjs";
import { log } from "../log.mjs";
import { target } from "../results.mjs";
import { median } from "../stats.mjs";

const BATCHES = 20;
const SPACING_MS = 5;

export async function scenarioCoalescing(ctx, server, fakes) {
  const reps = [];
  for (let rep = 1; rep <= ctx.profile.coalesceReps; rep++) {
    await fakes.reset();
    const { out, firstRefusal } = await burst(ctx, server, fakes, `coalesce-${ctx.runId}-${rep}`);
    log(`coalescing rep ${rep}: ${out.accepted}/${BATCHES} accepted over ${out.sendSpreadMs} ms → ${out.destinationCalls} destination call(s) (${out.kinds.join(", ")}), first action → destination ${out.firstActionToDestinationMs} ms`);
    if (out.accepted < BATCHES) ctx.results.errors.push({ scenario: "coalescing", message: `only ${out.accepted}/${BATCHES} accepted: ${firstRefusal}` });
    reps.push(out);
  }
  const summary = {
    reps: reps.length,
    destinationCallsMax: Math.max(...reps.map((r) => r.destinationCalls)),
    rawNotesMedian: median(reps.map((r) => r.rawNotes)),
    firstActionToDestinationMsMedian: median(reps.map((r) => r.firstActionToDestinationMs)),
    firstActionToDestinationMsMax: Math.max(...reps.map((r) => r.firstActionToDestinationMs ?? Infinity)),
    lastActionToDestinationMsMedian: median(reps.map((r) => r.lastActionToDestinationMs)),
  };
  target(ctx.results, `coalescing: raw notes for ${BATCHES} batches in ${BATCHES * SPACING_MS} ms`, `${summary.rawNotesMedian} (max calls ${summary.destinationCallsMax})`, "1", reps.every((r) => r.rawNotes === 1));
  return { summary, reps };
}

/**
 * Sends the burst to `sessionId` on a fixed schedule, then reads what reached the destination.
 * `firstRefusal` is the body of the first answer that was not 2xx.
 */
async function burst(ctx, server, fakes, sessionId) {
  const t0 = Date.now();
  const sends = [];
  const sentAt = [];
  for (let i = 0; i < BATCHES; i++) {
    const wait = t0 + i * SPACING_MS - Date.now();
    if (wait > 0) await sleep(wait);
    sentAt.push(Date.now());
    sends.push(sendBatch(server.port, { runId: ctx.runId, sessionId, actionsPerBatch: 1 }).catch((err) => ({ status: 0, body: err.message })));
  }
  const answers = await Promise.all(sends);
  const mine = await destinationCallsFor(fakes, sessionId);
  const first = mine[0];
  const out = {
    sessionId,
    accepted: answers.filter((a) => isOk(a.status)).length,
    sendSpreadMs: sentAt.at(-1) - sentAt[0],
    destinationCalls: mine.length,
    rawNotes: mine.filter((r) => r.kind === "raw" || r.kind === "other").length,
    kinds: mine.map((r) => r.kind),
    firstActionToDestinationMs: first ? first.at - sentAt[0] : null,
    lastActionToDestinationMs: first ? first.at - sentAt.at(-1) : null,
  };
  return { out, firstRefusal: answers.find((a) => !isOk(a.status))?.body?.slice(0, 300) };
}

/** The session's destination calls, once the first arrived and 1.5 s passed without another (≤ 15 s). */
async function destinationCallsFor(fakes, sessionId) {
  const matches = (r) => r.sessions?.includes(sessionId) || r.head?.includes(sessionId);
  const deadline = Date.now() + 15_000;
  let mine = [];
  let lastCount = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    mine = (await fakes.records("destination")).filter(matches);
    if (mine.length !== lastCount) {
      lastCount = mine.length;
      stableSince = Date.now();
    }
    if (mine.length > 0 && Date.now() - stableSince >= 1_500) break;
    await sleep(100);
  }
  return mine;
}
