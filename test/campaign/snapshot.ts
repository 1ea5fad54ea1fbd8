/**
 * Atomic snapshots for the state-based invariants: the actor's storage and what each of its
 * destinations' receivers holds are read in one synchronous block inside the actor, so no step can
 * land between the reads. A session has one lane per destination (the `lanes` table); each lane's
 * view pairs the lane's rows with that destination's receiver.
 */
import { runInDurableObject } from "cloudflare:test";
import { LANE_MAX_LAG_WINDOWS } from "../../src/session/lanes";
import { destinationOf, type World } from "../world";
import { tokensIn } from "../world/ledger";

export interface LaneSnapshot {
  /** The destination, host and path (as the world's receivers are named). */
  destination: string;
  /** The lane's row id; null while the session has no row for it yet. */
  id: number | null;
  coveredWindow: number;
  /** Tokens the actor still holds for this lane: not in a raw note of it yet, in one not confirmed posted, or in a summary it has not posted. */
  pending: Set<string>;
  liveRaw: Set<string>;
  coverage: Set<string>;
  liveNotes: number;
  /** Rows that belong to this lane alone: its lane row, its notes and its steps. */
  rows: number;
  /** Why the lane is not quiescent, for failure messages. */
  busy: string[];
  /** What the receiver got from this session: notes landed by kind, redactions applied. */
  received: { raw: number; summary: number; redacted: number };
}

export interface ActorSnapshot {
  actor: string;
  exists: boolean;
  /** The session's own coverage: the newest window whose summary is stored. */
  coveredWindow: number;
  actionsAccepted: number;
  /** Rows the actor keeps in its O(K) tables, lanes included. */
  rows: number;
  steps: number;
  /** Why the session's shared work (the LLM lane, steps of no lane) is not done. */
  sharedBusy: string[];
  lanes: LaneSnapshot[];
  /** Nothing left to do in any lane: everything delivered, summarised, posted, redacted; no step failing. */
  quiescent: boolean;
  /** Why not quiescent, for failure messages. */
  busy: string[];
}

type Row = Record<string, SqlStorageValue>;

const TABLES = ["session", "batches", "windows", "notes", "steps", "lanes"] as const;

function count(sql: SqlStorage, query: string, ...bindings: unknown[]): number {
  return Number(sql.exec<Row>(query, ...bindings).one().n);
}

function hasTable(sql: SqlStorage, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

/** The tokens of the batches with seq in [from, to], or above `from` when `to` is null. */
function batchTokens(sql: SqlStorage, from: number, to: number | null): string[] {
  const rows = to === null ? sql.exec<Row>("SELECT actions FROM batches WHERE seq > ?", from) : sql.exec<Row>("SELECT actions FROM batches WHERE seq BETWEEN ? AND ?", from, to);
  return rows.toArray().flatMap((r) => tokensIn(String(r.actions)));
}

interface LaneRow {
  id: number;
  deliveredSeq: number;
  coveredWindow: number;
}

/** The lane rows by destination (host and path of the entry's URL). */
function laneRows(sql: SqlStorage): Map<string, LaneRow> {
  const out = new Map<string, LaneRow>();
  for (const r of sql.exec<Row>("SELECT id, destination, delivered_seq, covered_window FROM lanes").toArray()) {
    const entry = JSON.parse(String(r.destination)) as { url?: string };
    if (entry.url) out.set(destinationOf(entry.url), { id: Number(r.id), deliveredSeq: Number(r.delivered_seq), coveredWindow: Number(r.covered_window) });
  }
  return out;
}

/** The lane a step belongs to, by its key (`deliver:<lane>:new`, `post:<lane>:<w>`, `deliver:<note>`, `redact:<note>`); null for a shared step. */
function laneOfStep(key: string, laneOfNote: ReadonlyMap<number, number>): number | null {
  const own = /^(?:deliver|post):(\d+):/.exec(key);
  if (own) return Number(own[1]);
  const byNote = /^(?:deliver|redact):(\d+)$/.exec(key);
  return byNote ? (laneOfNote.get(Number(byNote[1])) ?? null) : null;
}

/** What one destination's receiver holds of the actor. */
function receiverView(world: World, actor: string, destination: string): Pick<LaneSnapshot, "destination" | "liveRaw" | "coverage" | "liveNotes" | "received"> {
  const receiver = world.receivers.get(destination);
  if (!receiver) throw new Error(`the world serves no destination ${destination}`);
  const landed = [...receiver.notes.values()].filter((n) => n.actor === actor);
  const received = { raw: landed.filter((n) => n.kind === "raw").length, summary: landed.filter((n) => n.kind === "summary").length, redacted: landed.filter((n) => n.redacted).length };
  return { destination, liveRaw: receiver.liveRawTokens(actor), coverage: receiver.liveCoverage(actor), liveNotes: receiver.live({ actor }).length, received };
}

/**
 * One lane's view. Busy, as the lane model says (src/session/lanes.ts): batches it has not taken
 * in windows it neither covered nor fell too far behind for (LANE_MAX_LAG_WINDOWS), the newest
 * summary (rolling) or every recent one (independent) not posted in it, notes not confirmed, notes
 * its summaries cover still live, its steps failing.
 */
function laneSnapshot(sql: SqlStorage, world: World, actor: string, destination: string, lane: LaneRow | undefined, session: { covered: number; rolling: boolean }, stepsOfLane: number): LaneSnapshot {
  const base = receiverView(world, actor, destination);
  // A lane with no row yet has taken nothing: everything the session holds is pending for it.
  const { id = null, deliveredSeq = 0, coveredWindow = 0 } = lane ?? {};
  const pending = new Set(batchTokens(sql, deliveredSeq, null));
  const summaryCoverage = (text: unknown, extractive: unknown) => world.coverage.of(actor, String(text), Boolean(extractive)) ?? [];
  const busy: string[] = [];
  const note = (n: number, what: string) => n > 0 && busy.push(`${n} ${what}`);
  note(count(sql, "SELECT COUNT(*) AS n FROM batches WHERE seq > ? AND window_id > ?", deliveredSeq, Math.max(coveredWindow, session.covered - LANE_MAX_LAG_WINDOWS)), "undelivered batches");
  const summarised = sql.exec<Row>("SELECT id, summary, extractive FROM windows WHERE summary IS NOT NULL AND id > ?", coveredWindow).toArray();
  for (const w of summarised) for (const t of summaryCoverage(w.summary, w.extractive)) pending.add(t);
  const newest = Math.max(0, ...summarised.map((w) => Number(w.id)));
  const floor = Math.max(coveredWindow, newest - LANE_MAX_LAG_WINDOWS);
  note(session.rolling ? Number(newest > coveredWindow) : summarised.filter((w) => Number(w.id) > floor).length, "unposted summaries");
  let rows = id === null ? 0 : 1 + stepsOfLane;
  if (id !== null) {
    const unconfirmed = sql.exec<Row>("SELECT n.kind, n.seq_from, n.seq_to, n.body, w.summary, w.extractive FROM notes n LEFT JOIN windows w ON w.id = n.window_id WHERE n.lane = ? AND n.posted_at IS NULL", id).toArray();
    for (const n of unconfirmed) {
      const held = n.kind === "raw" ? batchTokens(sql, Number(n.seq_from), Number(n.seq_to)) : summaryCoverage(n.summary ?? n.body, n.extractive);
      for (const t of held) pending.add(t);
    }
    note(unconfirmed.length, "unconfirmed notes");
    note(count(sql, "SELECT COUNT(*) AS n FROM notes WHERE lane = ? AND kind = 'raw' AND window_id <= ? AND posted_at IS NOT NULL", id, coveredWindow), "raw notes to redact");
    note(count(sql, "SELECT COUNT(*) AS n FROM notes WHERE lane = ? AND kind = 'summary' AND window_id < ? AND posted_at IS NOT NULL", id, coveredWindow), "summaries to redact");
    note(stepsOfLane, "failing steps");
    rows += count(sql, "SELECT COUNT(*) AS n FROM notes WHERE lane = ?", id);
  }
  return { ...base, id, coveredWindow, pending, rows, busy };
}

/** Reads one actor's storage and, for each of `destinations` (host and path), that receiver's view, in the same synchronous block. */
export function snapshot(stub: DurableObjectStub, actor: string, world: World, destinations: readonly string[], rolling: boolean): Promise<ActorSnapshot> {
  return runInDurableObject(stub, (_instance, state): ActorSnapshot => {
    const sql = state.storage.sql;
    const s = hasTable(sql, "session") ? sql.exec<Row>("SELECT covered_window, actions_accepted FROM session WHERE id = 1").toArray()[0] : undefined;
    if (!s) {
      const lanes = destinations.map((d) => ({ ...receiverView(world, actor, d), id: null, coveredWindow: 0, pending: new Set<string>(), rows: 0, busy: [] }));
      return { actor, exists: false, coveredWindow: 0, actionsAccepted: 0, rows: 0, steps: 0, sharedBusy: [], lanes, quiescent: true, busy: [] };
    }
    const covered = Number(s.covered_window);
    const byDestination = laneRows(sql);
    const laneOfNote = new Map(sql.exec<Row>("SELECT id, lane FROM notes").toArray().map((r) => [Number(r.id), Number(r.lane)]));
    const stepLanes = sql.exec<Row>("SELECT key FROM steps").toArray().map((r) => laneOfStep(String(r.key), laneOfNote));
    const lanes = destinations.map((d) => {
      const row = byDestination.get(d);
      return laneSnapshot(sql, world, actor, d, row, { covered, rolling }, row ? stepLanes.filter((l) => l === row.id).length : 0);
    });
    const known = new Set([...byDestination.values()].map((l) => l.id));
    const sharedBusy: string[] = [];
    // A closed window waits for its summary as its batches after the session's coverage, before its open window.
    const unsummarised = count(sql, "SELECT COUNT(DISTINCT window_id) AS n FROM batches, session WHERE window_id > session.covered_window AND window_id < session.open_window");
    if (unsummarised) sharedBusy.push(`${unsummarised} unsummarised windows`);
    const sharedSteps = stepLanes.filter((l) => l === null || !known.has(l)).length;
    if (sharedSteps) sharedBusy.push(`${sharedSteps} failing steps of no lane`);
    const strays = byDestination.size - lanes.filter((l) => l.id !== null).length;
    if (strays) sharedBusy.push(`${strays} lanes of no configured destination`);
    const busy = [...sharedBusy, ...lanes.flatMap((l) => l.busy.map((b) => `${l.destination}: ${b}`))];
    return {
      actor,
      exists: true,
      coveredWindow: covered,
      actionsAccepted: Number(s.actions_accepted),
      rows: TABLES.filter((t) => hasTable(sql, t)).map((t) => count(sql, `SELECT COUNT(*) AS n FROM ${t}`)).reduce((a, b) => a + b, 0),
      steps: stepLanes.length,
      sharedBusy,
      lanes,
      quiescent: busy.length === 0,
      busy,
    };
  });
}

/** Why a session is not done, leaving out its `except` lane (host and path), if any. */
export function busyExcept(snap: ActorSnapshot, except: string | null): string[] {
  if (except === null) return snap.busy;
  return [...snap.sharedBusy, ...snap.lanes.filter((l) => l.destination !== except).flatMap((l) => l.busy.map((b) => `${l.destination}: ${b}`))];
}
