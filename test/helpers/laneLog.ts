/**
 * What one destination saw, read the same way from the fake world's webhook receiver and from the
 * Intercom emulator, and the invariants of DESIGN.md checked on it as that destination's reader
 * would: each raw action delivered once, summaries once and in window order, a note redacted only
 * once the summaries posted before it cover it, nothing lost, every covered raw note redacted.
 * Actions carry ledger tokens (`tok-<session>-<n>`, test/world/ledger.ts) so notes can be matched
 * to what was sent.
 */
import { decodeCoverage, tokensIn } from "../world/ledger";
import type { World } from "../world";
import type { IntercomEmulator } from "./intercomEmulator";

export interface LaneNote {
  /** The destination's part id (the webhook-id, or the Intercom part id). */
  id: string;
  kind: "raw" | "summary";
  /** Summaries: the window they summarise. */
  window: number | null;
  /** Raw notes: the tokens of their actions. Summaries: the tokens they cover. */
  tokens: string[];
  redacted: boolean;
}

export type LaneEvent = { kind: "post"; note: LaneNote } | { kind: "redact"; id: string };

/** Everything a destination received, in arrival order. */
export interface LaneLog {
  events: LaneEvent[];
  notes: LaneNote[];
}

/** The webhook receiver's view of one actor (deduped deliveries, as a Standard Webhooks receiver keeps them). */
export function webhookLog(world: World, actor: string): LaneLog {
  const notes = new Map<string, LaneNote>();
  for (const n of world.receiver.notes.values()) {
    if (n.actor !== actor) continue;
    notes.set(n.id, { id: n.id, kind: n.kind, window: n.kind === "summary" ? n.window : null, tokens: n.kind === "raw" ? n.tokens : [...(n.covers ?? [])], redacted: n.redacted });
  }
  const events: LaneEvent[] = [];
  for (const e of world.events) {
    const note = notes.get(e.id);
    if (e.kind === "post" && note) events.push({ kind: "post", note });
    if (e.kind === "redact" && note) events.push({ kind: "redact", id: e.id });
  }
  return { events, notes: [...notes.values()] };
}

const SUMMARY_HEADER = /<b>Session summary<\/b>.*?window (\d+)/;

/**
 * One conversation as the emulator holds it. Redacted parts lose their body, so each part is read
 * from the reply that created it: the conversation's notes are in the order of the successful replies.
 */
export function intercomLog(emulator: IntercomEmulator, conversationId: string): LaneLog {
  const replies = emulator.calls.filter((c) => c.method === "POST" && c.path === `/conversations/${conversationId}/reply` && c.outcome === 200);
  const parts = emulator.notes(conversationId);
  if (replies.length !== parts.length) throw new Error(`conversation ${conversationId}: ${parts.length} notes for ${replies.length} replies`);
  const byId = new Map<string, LaneNote>();
  const events: LaneEvent[] = [];
  let posted = 0;
  for (const call of emulator.calls) {
    const body = call.body as { body?: string; conversation_id?: string; conversation_part_id?: string } | undefined;
    if (call.outcome !== 200) continue;
    if (call.path === `/conversations/${conversationId}/reply`) {
      const part = parts[posted++]!;
      const html = body?.body ?? "";
      const summary = SUMMARY_HEADER.exec(html);
      const note: LaneNote = summary
        ? { id: part.id, kind: "summary", window: Number(summary[1]), tokens: [...(decodeCoverage(html) ?? [])], redacted: part.redacted }
        : { id: part.id, kind: "raw", window: null, tokens: tokensIn(html), redacted: part.redacted };
      byId.set(part.id, note);
      events.push({ kind: "post", note });
    } else if (call.path === "/conversations/redact" && String(body?.conversation_id) === conversationId) {
      events.push({ kind: "redact", id: String(body?.conversation_part_id) });
    }
  }
  return { events, notes: [...byId.values()] };
}

export const live = (log: LaneLog, kind?: LaneNote["kind"]) => log.notes.filter((n) => !n.redacted && (kind === undefined || n.kind === kind));

/** Tokens raw notes carry, in posting order (a token twice is a duplicate delivery). */
export const rawTokens = (log: LaneLog) => log.notes.filter((n) => n.kind === "raw").flatMap((n) => n.tokens);

/** What the live summaries cover together. */
export function liveCoverage(log: LaneLog): Set<string> {
  return new Set(live(log, "summary").flatMap((n) => n.tokens));
}

/**
 * The invariants of one destination, as messages (empty when all hold):
 * - exactly once: no raw token twice, no window summarised twice, no part redacted twice;
 * - order: summaries in window order;
 * - summary first: a redacted note's tokens were covered by summaries posted before it and still live;
 * - `accepted` given: nothing lost (each accepted token is in a live raw note or covered by a live
 *   summary) and bounded (no live raw note is wholly covered by the live summaries: it was redacted).
 */
export function laneProblems(log: LaneLog, accepted?: readonly string[]): string[] {
  const problems: string[] = [];
  const tokens = rawTokens(log);
  const dupes = tokens.filter((t, i) => tokens.indexOf(t) !== i);
  if (dupes.length) problems.push(`delivered twice: ${[...new Set(dupes)].join(", ")}`);
  const windows = log.notes.filter((n) => n.kind === "summary").map((n) => n.window ?? -1);
  windows.forEach((w, i) => i > 0 && w <= windows[i - 1]! && problems.push(`summary of window ${w} after window ${windows[i - 1]}`));
  const liveNow = new Map<string, LaneNote>();
  const redacted = new Set<string>();
  for (const e of log.events) {
    if (e.kind === "post") {
      liveNow.set(e.note.id, e.note);
      continue;
    }
    const note = liveNow.get(e.id);
    if (redacted.has(e.id)) problems.push(`part ${e.id} redacted twice`);
    redacted.add(e.id);
    if (!note) {
      problems.push(`redaction of part ${e.id}, which this destination never received`);
      continue;
    }
    liveNow.delete(e.id);
    const covered = new Set([...liveNow.values()].filter((n) => n.kind === "summary").flatMap((n) => n.tokens));
    const uncovered = note.tokens.filter((t) => !covered.has(t));
    if (uncovered.length) problems.push(`${note.kind} part ${e.id} redacted while ${uncovered.join(", ")} not covered by a summary posted before`);
  }
  if (accepted) {
    const covered = liveCoverage(log);
    const held = new Set(live(log, "raw").flatMap((n) => n.tokens));
    const lost = accepted.filter((t) => !covered.has(t) && !held.has(t));
    if (lost.length) problems.push(`lost: ${lost.join(", ")}`);
    for (const n of live(log, "raw")) if (n.tokens.every((t) => covered.has(t))) problems.push(`raw part ${n.id} is covered by a live summary but not redacted`);
  }
  return problems;
}
