/**
 * The state-based invariants, checked per lane (session × destination) on an atomic snapshot
 * (`snapshot.ts`): nothing lost and bounded after every operation, a healthy lane current while
 * the other fails, and at the end every lane quiescent and complete. (Event-based invariants are
 * checked by each destination's receiver as events land.)
 */
import type { Violation } from "../world";
import type { Ledger } from "../world/ledger";
import type { ActorSnapshot, LaneSnapshot } from "./snapshot";

export interface BoundSettings {
  threshold: number;
}

const sample = (tokens: string[]) => tokens.slice(0, 4).join(", ");

/** Each uncovered action of a lane needs at most its note and a step; each live note at most its row and a step; plus the lane row and its covering summary note. */
function laneBound(lane: LaneSnapshot, uncovered: number): number {
  return 3 + 2 * uncovered + 2 * lane.liveNotes;
}

/**
 * Invariant 2 (nothing lost) and 5 (bounded) on one snapshot, per lane.
 *
 * Nothing lost: every accepted action is, for each lane, pending for it, in a live raw note at its
 * destination, or covered by a live summary there. Bounded: the rows a lane keeps grow with its
 * own backlog (actions it has not got covered, notes its destination still holds), never with the
 * session's history; the shared rows with the largest backlog of any lane: each action no lane
 * can forget needs at most a batch and a window, plus the session row, the covering summary's
 * window and the open window's share, 2K + 6.
 */
export function checkSnapshot(snap: ActorSnapshot, ledger: Ledger, bounds: BoundSettings): Violation[] {
  const out: Violation[] = [];
  const accepted = ledger.acceptedFor(snap.actor);
  const uncoveredAnywhere = new Set<string>();
  let bound = 2 * bounds.threshold + 6;
  for (const lane of snap.lanes) {
    const lost = accepted.filter((t) => !lane.pending.has(t) && !lane.liveRaw.has(t) && !lane.coverage.has(t));
    if (lost.length) {
      out.push({ invariant: "2-nothing-lost", actor: snap.actor, message: `at ${lane.destination}: ${lost.length} accepted action(s) neither pending, in a live raw note, nor covered by a posted summary: ${sample(lost)}` });
    }
    const uncovered = accepted.filter((t) => !lane.coverage.has(t));
    for (const t of uncovered) uncoveredAnywhere.add(t);
    const own = laneBound(lane, uncovered.length);
    if (lane.rows > own) {
      out.push({ invariant: "5-bounded", actor: snap.actor, message: `at ${lane.destination}: the lane keeps ${lane.rows} rows with ${uncovered.length} uncovered actions and ${lane.liveNotes} live notes (bound ${own})` });
    }
    bound += own;
  }
  bound += 2 * uncoveredAnywhere.size;
  if (snap.rows > bound) {
    out.push({ invariant: "5-bounded", actor: snap.actor, message: `${snap.rows} rows kept with ${uncoveredAnywhere.size} actions uncovered in some lane (bound ${bound})` });
  }
  return out;
}

/** Isolation between lanes: after the session was driven, a healthy lane holds every accepted action, raw or covered, however its other lane fails. */
export function checkLaneCurrent(snap: ActorSnapshot, ledger: Ledger, destination: string): Violation[] {
  const lane = snap.lanes.find((l) => l.destination === destination)!;
  const behind = ledger.acceptedFor(snap.actor).filter((t) => !lane.liveRaw.has(t) && !lane.coverage.has(t));
  if (!behind.length) return [];
  return [{ invariant: "6-isolated", actor: snap.actor, message: `at ${destination}: ${behind.length} accepted action(s) neither raw nor covered while another lane fails: ${sample(behind)}` }];
}

/** What the state JSON says of a session (the fields the campaign checks). */
export interface StateView {
  storage: { rows: number };
  threshold: number;
  mode: string;
  llm_breaker?: unknown;
  lanes?: { id: number; step: unknown; counters: { raw_notes_posted: number; summary_notes_posted: number; redactions: number } }[];
}

/**
 * After healing, a flush and quiescence, in every lane: everything accepted covered by its live
 * summaries, no raw note left live, what the actor counted equal to what its destination got;
 * and only the session row, the latest summary's window, and per lane its row and summary note kept.
 */
export function checkAtRest(snap: ActorSnapshot, ledger: Ledger, clientAccepted: number, state: StateView | null, settings: { threshold: number; mode: string }): Violation[] {
  const out: Violation[] = [];
  const v = (invariant: Violation["invariant"], message: string) => out.push({ invariant, actor: snap.actor, message });
  const accepted = ledger.acceptedFor(snap.actor);
  for (const lane of snap.lanes) {
    const uncovered = accepted.filter((t) => !lane.coverage.has(t));
    if (uncovered.length) v("2-nothing-lost", `at ${lane.destination}: ${uncovered.length} accepted action(s) never covered: ${sample(uncovered)}`);
    if (lane.liveRaw.size) v("liveness", `at ${lane.destination}: ${lane.liveRaw.size} covered action(s) still in raw notes`);
  }
  if (snap.actionsAccepted !== clientAccepted) v("3-exactly-once", `actor counted ${snap.actionsAccepted} actions accepted, client had ${clientAccepted} accepted`);
  const bound = accepted.length ? 2 + 2 * snap.lanes.length : snap.exists ? 1 + snap.lanes.length : 0;
  if (snap.rows > bound) v("5-bounded", `${snap.rows} rows kept at rest (expected at most ${bound})`);
  if (!snap.exists) return out;
  if (state?.storage.rows !== snap.rows || state.llm_breaker === undefined || state.threshold !== settings.threshold || state.mode !== settings.mode) {
    v("protocol", `state shows rows ${state?.storage.rows} (snapshot ${snap.rows}), K ${state?.threshold}/${settings.threshold}, ${state?.mode}/${settings.mode}, llm_breaker ${JSON.stringify(state?.llm_breaker)}`);
  }
  for (const lane of snap.lanes) {
    if (lane.id === null) continue;
    const shown = state?.lanes?.find((l) => l.id === lane.id);
    const counted = shown && { raw: shown.counters.raw_notes_posted, summary: shown.counters.summary_notes_posted, redacted: shown.counters.redactions };
    if (!shown || shown.step !== null || JSON.stringify(counted) !== JSON.stringify(lane.received)) {
      v("protocol", `at ${lane.destination}: state shows lane ${JSON.stringify(shown)}; the destination got ${JSON.stringify(lane.received)}`);
    }
  }
  return out;
}
