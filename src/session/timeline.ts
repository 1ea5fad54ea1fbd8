/**
 * @module
 * A session's timeline for the console: what arrived (batches and their actions), what was posted
 * where (notes with their lane, destination type and part id), which summary covers which windows,
 * what was redacted, and the steps in trouble with the LLM breaker. Pure: built from the rows the
 * store hands over (`SessionStore.timelineRows`). Redacted notes are deleted rows (rows stay O(K)),
 * so a redaction is read from what remains: a lane that has redacted, a summary it has posted, and
 * no live raw note of that lane left in the windows the summary covers.
 */
import type { BreakerView } from "../llm/breaker";
import { SUMMARY_ORIGIN } from "../llm/types";
import type { SlimAction } from "./model";
import type { BatchRow, LaneRow, NoteRow, SessionRow, StepRow, WindowRow } from "./store/schema";

export interface TimelineRows {
  session: SessionRow;
  batches: BatchRow[];
  windows: WindowRow[];
  notes: NoteRow[];
  lanes: LaneRow[];
  steps: StepRow[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A lane's destination type from its entry (JSON), never its settings. */
function destinationType(entry: string | undefined): string {
  try {
    const type = (JSON.parse(entry ?? "") as { type?: unknown }).type;
    return typeof type === "string" ? type : "unknown";
  } catch {
    return "unknown";
  }
}

/** The fields of an action a reader needs (its time is Unix seconds, 0 when missing); ids and email stay out. */
const actionView = (a: SlimAction) => ({
  index: a.index,
  type: a.type,
  title: a.title,
  description: a.description,
  url: a.canonical_url,
  at: a.timestamp_start > 0 ? iso(a.timestamp_start * 1000) : null,
});

export function buildTimeline(rows: TimelineRows, rolling: boolean, breaker: BreakerView | null) {
  const { session: s } = rows;
  const laneType = new Map(rows.lanes.map((l) => [l.id, destinationType(l.destination)]));
  const rawNoteOf = (seq: number) => rows.notes.filter((n) => n.kind === "raw" && n.seq_from !== null && n.seq_to !== null && seq >= n.seq_from && seq <= n.seq_to);
  const batches = rows.batches.map((b) => ({
    type: "batch" as const,
    at: iso(b.received_at),
    seq: b.seq,
    window: b.window_id,
    actions: (JSON.parse(b.actions) as SlimAction[]).map(actionView),
    notes: rawNoteOf(b.seq).map((n) => ({ lane: n.lane, part_id: n.part_id })),
  }));
  const notes = rows.notes.map((n) => ({
    type: "note" as const,
    at: iso(n.posted_at ?? n.created_at),
    kind: n.kind,
    lane: n.lane,
    destination: laneType.get(n.lane ?? -1) ?? "unknown",
    window: n.window_id,
    part_id: n.part_id,
    posted: n.posted_at !== null,
    batches: n.seq_from === null ? null : { from: n.seq_from, to: n.seq_to },
  }));
  // A rolling summary carries every window before it; an independent one its own (absorbed windows
  // included), after the previous stored summary. Older summaries may be pruned: then its own window.
  const summarised = rows.windows.filter((w) => w.summary !== null).sort((a, b) => a.id - b.id);
  const summaries = summarised.map((w, i) => ({
    type: "summary" as const,
    at: iso(w.summarised_at),
    window: w.id,
    covers: { from: rolling ? 1 : i === 0 ? w.id : summarised[i - 1]!.id + 1, to: w.id },
    actions: w.action_count,
    text: w.summary!,
    extractive: w.extractive !== SUMMARY_ORIGIN.llm,
    posted_at: iso(w.posted_at),
  }));
  const redactions = rows.lanes
    .filter((l) => l.redactions > 0)
    .flatMap((l) =>
      summaries
        .filter((sum) => sum.window <= l.covered_window)
        .filter((sum) => !rows.notes.some((n) => n.lane === l.id && n.kind === "raw" && n.window_id >= sum.covers.from && n.window_id <= sum.covers.to))
        .map((sum) => ({ type: "redaction" as const, at: sum.posted_at, lane: l.id, destination: laneType.get(l.id)!, windows: sum.covers, replaced_by: sum.window })),
    );
  const order = (e: { at: string | null }) => e.at ?? "";
  const events = [...batches, ...notes, ...summaries, ...redactions].sort((a, b) => order(a).localeCompare(order(b)));
  return {
    product_id: s.product_id,
    session_id: s.session_id,
    events,
    lanes: rows.lanes.map((l) => ({ id: l.id, destination: laneType.get(l.id)!, covered_through: l.covered_window, redactions: l.redactions, step_failures: l.step_failures })),
    steps: rows.steps.map((r) => ({
      key: r.key,
      kind: r.kind,
      attempts: r.attempts,
      last_error: r.last_error,
      parked: r.parked_at !== null,
      next_attempt_at: r.parked_at === null ? iso(r.next_attempt_at) : null,
    })),
    llm_breaker: breaker,
  };
}

export type SessionTimeline = ReturnType<typeof buildTimeline>;
