/**
 * The state-based invariants, checked on an atomic snapshot: the actor's storage and the
 * receiver's notes are read in one synchronous block inside the actor, so no step can land
 * between the two reads. (Event-based invariants are checked by the receiver as events land.)
 */
import { runInDurableObject } from "cloudflare:test";
import type { Violation } from "../world";
import { tokensIn, type Ledger } from "../world/ledger";
import type { Receiver } from "../world/receiver";

export interface ActorSnapshot {
  actor: string;
  exists: boolean;
  coveredWindow: number;
  actionsAccepted: number;
  /** Tokens the actor still has to deliver (no note yet, or a note not confirmed posted). */
  pending: Set<string>;
  /** Rows the actor keeps (what `storage.rows` in the state JSON counts). */
  rows: number;
  steps: number;
  /** Nothing left to do: everything delivered, summarised, posted, redacted; no step failing. */
  quiescent: boolean;
  /** Why not quiescent, for failure messages. */
  busy: string[];
  liveRaw: Set<string>;
  coverage: Set<string>;
  liveNotes: number;
}

type Row = Record<string, SqlStorageValue>;

function count(sql: SqlStorage, query: string, ...bindings: unknown[]): number {
  return Number(sql.exec<Row>(query, ...bindings).one().n);
}

/** Reads one actor's storage and the receiver's view of it in the same synchronous block. */
export function snapshot(stub: DurableObjectStub, actor: string, receiver: Receiver): Promise<ActorSnapshot> {
  return runInDurableObject(stub, (_instance, state): ActorSnapshot => {
    const sql = state.storage.sql;
    const liveRaw = receiver.liveRawTokens(actor);
    const coverage = receiver.liveCoverage(actor);
    const liveNotes = receiver.live({ actor }).length;
    const empty = { actor, coveredWindow: 0, actionsAccepted: 0, pending: new Set<string>(), rows: 0, steps: 0, liveRaw, coverage, liveNotes };
    if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session'").toArray().length === 0) {
      return { ...empty, exists: false, quiescent: true, busy: [] };
    }
    const s = sql.exec<Row>("SELECT covered_window, actions_accepted FROM session WHERE id = 1").toArray()[0];
    if (!s) return { ...empty, exists: false, quiescent: true, busy: [] };
    const covered = Number(s.covered_window);
    const pending = new Set<string>();
    const rows = sql
      .exec<Row>("SELECT b.actions AS actions FROM batches b LEFT JOIN notes n ON n.id = b.note_id WHERE b.note_id IS NULL OR (n.id IS NOT NULL AND n.posted_at IS NULL)")
      .toArray();
    for (const r of rows) for (const t of tokensIn(String(r.actions))) pending.add(t);
    const busy: string[] = [];
    const checks: [string, string, unknown[]][] = [
      ["undelivered batches", "SELECT COUNT(*) AS n FROM batches WHERE note_id IS NULL AND window_id > ?", [covered]],
      ["unconfirmed notes", "SELECT COUNT(*) AS n FROM notes WHERE posted_at IS NULL", []],
      ["unsummarised windows", "SELECT COUNT(*) AS n FROM windows WHERE summary IS NULL", []],
      ["unposted summaries", "SELECT COUNT(*) AS n FROM windows WHERE summary IS NOT NULL AND posted_at IS NULL", []],
      ["raw notes to redact", "SELECT COUNT(*) AS n FROM notes WHERE kind = 'raw' AND window_id <= ?", [covered]],
      ["summaries to redact", "SELECT COUNT(*) AS n FROM notes WHERE kind = 'summary' AND window_id < ?", [covered]],
      ["failing steps", "SELECT COUNT(*) AS n FROM steps", []],
    ];
    for (const [what, query, bindings] of checks) {
      const n = count(sql, query, ...bindings);
      if (n > 0) busy.push(`${n} ${what}`);
    }
    const total = ["session", "batches", "windows", "notes", "steps"].map((t) => count(sql, `SELECT COUNT(*) AS n FROM ${t}`)).reduce((a, b) => a + b, 0);
    return {
      ...empty,
      exists: true,
      coveredWindow: covered,
      actionsAccepted: Number(s.actions_accepted),
      pending,
      rows: total,
      steps: count(sql, "SELECT COUNT(*) AS n FROM steps"),
      quiescent: busy.length === 0,
      busy,
    };
  });
}

export interface BoundSettings {
  threshold: number;
}

/**
 * Invariant 2 (nothing lost) and 5 (bounded) on one snapshot.
 *
 * Bounded: the rows an actor keeps may grow with its backlog (actions not yet covered by a
 * posted summary, and notes the receiver still holds, awaiting redaction), never with its history.
 * Each uncovered action needs at most a batch, a note, a window and a step row; each live note at
 * most its note row and a step; plus the session row and the covering summary (window + note) and
 * the open window's share, 2K + 6 in all.
 */
export function checkSnapshot(snap: ActorSnapshot, ledger: Ledger, bounds: BoundSettings): Violation[] {
  const out: Violation[] = [];
  const accepted = ledger.acceptedFor(snap.actor);
  const lost = accepted.filter((t) => !snap.pending.has(t) && !snap.liveRaw.has(t) && !snap.coverage.has(t));
  if (lost.length) {
    out.push({
      invariant: "2-nothing-lost",
      actor: snap.actor,
      message: `${lost.length} accepted action(s) neither pending, in a live raw note, nor covered by a posted summary: ${lost.slice(0, 4).join(", ")}`,
    });
  }
  const uncovered = accepted.filter((t) => !snap.coverage.has(t)).length;
  const bound = 2 * bounds.threshold + 6 + 4 * uncovered + 2 * snap.liveNotes;
  if (snap.rows > bound) {
    out.push({
      invariant: "5-bounded",
      actor: snap.actor,
      message: `${snap.rows} rows kept with ${uncovered} uncovered actions and ${snap.liveNotes} live notes (bound ${bound})`,
    });
  }
  return out;
}
