/**
 * A destination of the fake world: a Standard Webhooks receiver, as an agent's backend would
 * run one. It verifies each signature with the reference `standardwebhooks` package, dedupes on
 * `webhook-id`, keeps notes and applies redactions. Invariants about the order of events (summary
 * first, exactly once, per-session order, isolation) are checked as each event is applied; those
 * that need to know what the client sent (tokens) are checked only when a ledger is given. A
 * world with several destinations has one receiver each: every invariant holds per lane
 * (session × destination), so each receiver checks its own notes only. Under DELIVERY=replace a
 * session's notes are edits of one message (`context.replace`): only the latest is live.
 */
import { Webhook } from "standardwebhooks";
import { SummaryCoverage } from "./coverage.ts";
import { tokensIn, type Ledger } from "./ledger.ts";

export type InvariantId = "1-summary-first" | "2-nothing-lost" | "3-exactly-once" | "4-order" | "5-bounded" | "6-isolated" | "liveness" | "protocol";

export interface Violation {
  invariant: InvariantId;
  actor: string;
  message: string;
}

/** One line of the world's log, in the order things happened. */
export interface WorldEvent {
  kind: "post" | "redact" | "llm";
  id: string;
  type?: string;
}

export interface ReceivedNote {
  /** The webhook-id, which is also the note's key and its part id. */
  id: string;
  actor: string;
  /** The event type: `context.raw_note`, `context.summary` or `context.replace`. */
  type: string;
  /** What the note (or, for `context.replace`, the edit) adds. */
  kind: "raw" | "summary";
  window: number;
  text: string;
  /** Raw notes: the tokens of their actions, in order. */
  tokens: string[];
  /** Summaries: what they cover; null if the text carries no coverage (a bad summary). */
  covers: Set<string> | null;
  redacted: boolean;
  /** `context.replace`: a later edit of the message replaced this one. */
  replaced?: boolean;
  /** `context.replace`: the tokens of its raw notes by window. */
  rawWindows?: { window: number; tokens: string[] }[];
}

interface WebhookEvent {
  type: string;
  data: {
    product_id: string;
    session_id: string;
    note_id?: string;
    window?: number;
    text?: string;
    actions?: { description?: string }[];
    redacts?: string;
    extractive?: boolean;
    kind?: string;
    summary?: { text: string; window: number; extractive: boolean } | null;
    raw_notes?: { text: string; window: number }[];
  };
}

interface ActorLane {
  /** Highest note number landed, per kind (raw notes and summary notes are each in order). */
  lastNote: Record<"raw" | "summary", number>;
  lastSummaryWindow: number;
  /** Highest send time among raw tokens landed so far (for the happened-before order check). */
  maxSentAt: number;
  rawTokens: Set<string>;
  summaryWindows: Set<number>;
}

export interface ReceiverOptions {
  /** `whsec_…`: deliveries must carry its signature. Without it nothing is verified (the benchmark). */
  secret?: string;
  /** What the client sent: enables the token checks (ownership, delivered once, coverage). */
  ledger?: Ledger;
  events: WorldEvent[];
  /** Texts the fake LLM produced that must never be posted (empty, error-looking, too long). */
  badSummaries: Set<string>;
  /** What summaries cover, shared with the LLM and every other receiver of the world. */
  coverage?: SummaryCoverage;
  /** The destination this receiver stands for, named in its violations when the world has several. */
  label?: string;
  /** The raw tokens of an actor's window as they landed anywhere in the world (default: here). */
  windowTokens?: (actor: string, window: number) => Iterable<string>;
}

/** `{epoch}-n{id}` → its epoch and note number. */
function parseKey(key: string): { epoch: string; n: number } | null {
  const m = /^(.+)-n(\d+)$/.exec(key);
  return m ? { epoch: m[1]!, n: Number(m[2]) } : null;
}

export type Delivery = "applied" | "duplicate" | "bad-signature";

export class Receiver {
  readonly coverage: SummaryCoverage;
  readonly notes = new Map<string, ReceivedNote>();
  readonly violations: Violation[] = [];
  /** Deliveries of an id already seen (retries after a lost answer), deduped. */
  redeliveries = 0;
  private readonly seen = new Set<string>();
  private readonly lanes = new Map<string, ActorLane>();
  private readonly webhook: Webhook | null;
  private readonly options: ReceiverOptions;

  constructor(options: ReceiverOptions) {
    this.options = options;
    this.coverage = options.coverage ?? new SummaryCoverage();
    this.webhook = options.secret ? new Webhook(options.secret) : null;
  }

  private violation(invariant: InvariantId, actor: string, message: string): void {
    this.violations.push({ invariant, actor, message: this.options.label ? `at ${this.options.label}: ${message}` : message });
  }

  /** The raw tokens of an actor's window that landed here. */
  windowTokens(actor: string, window: number): string[] {
    return [...this.notes.values()]
      .filter((n) => n.actor === actor)
      .flatMap((n) => (n.rawWindows ? n.rawWindows.filter((r) => r.window === window).flatMap((r) => r.tokens) : n.kind === "raw" && n.window === window ? n.tokens : []));
  }

  /** Live notes, of one actor and/or one event type. */
  live(match: { actor?: string; type?: string } = {}): ReceivedNote[] {
    return [...this.notes.values()].filter((n) => !n.redacted && !n.replaced && (match.actor === undefined || n.actor === match.actor) && (match.type === undefined || n.type === match.type));
  }

  liveRawTokens(actor: string): Set<string> {
    return new Set(this.live({ actor }).filter((n) => n.type !== "context.summary").flatMap((n) => n.tokens));
  }

  liveCoverage(actor: string, except?: string): Set<string> {
    const out = new Set<string>();
    for (const n of this.live({ actor })) if (n.type !== "context.raw_note" && n.id !== except) for (const t of n.covers ?? []) out.add(t);
    return out;
  }

  /** Verifies, dedupes and applies one delivery. */
  receive(headers: Headers, body: string): Delivery {
    const id = headers.get("webhook-id") ?? "";
    if (this.webhook) {
      try {
        this.webhook.verify(body, Object.fromEntries(headers));
      } catch (err) {
        this.violation("protocol", "?", `delivery ${id} refused: ${err instanceof Error ? err.message : String(err)}`);
        return "bad-signature";
      }
    }
    if (this.seen.has(id)) {
      this.redeliveries += 1;
      return "duplicate";
    }
    this.seen.add(id);
    this.apply(id, JSON.parse(body) as WebhookEvent);
    return "applied";
  }

  /** One lane per actor: a session's notes are checked against its own earlier notes only. */
  private lane(actor: string): ActorLane {
    let lane = this.lanes.get(actor);
    if (!lane) {
      lane = { lastNote: { raw: 0, summary: 0 }, lastSummaryWindow: 0, maxSentAt: 0, rawTokens: new Set(), summaryWindows: new Set() };
      this.lanes.set(actor, lane);
    }
    return lane;
  }

  private apply(id: string, event: WebhookEvent): void {
    const actor = `${event.data.product_id}:${event.data.session_id}`;
    if (event.type === "context.redaction") return this.applyRedaction(actor, event.data.redacts ?? "");
    if (event.type === "context.replace") return this.applyReplace(actor, id, event);
    if (event.type !== "context.raw_note" && event.type !== "context.summary") return this.violation("protocol", actor, `unknown event type ${event.type}`);
    const key = parseKey(event.data.note_id ?? "");
    if (!key || key.epoch === "" || event.data.note_id !== id) return this.violation("protocol", actor, `note ${id} has note_id ${event.data.note_id}`);
    const lane = this.lane(actor);
    const kind = event.type === "context.summary" ? "summary" : "raw";
    if (key.n <= lane.lastNote[kind]) this.violation("4-order", actor, `${kind} note n${key.n} landed after n${lane.lastNote[kind]}`);
    lane.lastNote[kind] = Math.max(lane.lastNote[kind], key.n);
    const window = event.data.window ?? -1;
    const text = event.data.text ?? "";
    const note: ReceivedNote = { id, actor, type: event.type, kind, window, text, tokens: [], covers: null, redacted: false };
    if (kind === "raw") {
      note.tokens = (event.data.actions ?? []).flatMap((a) => tokensIn(a.description ?? ""));
      this.checkRaw(actor, lane, id, note.tokens);
    } else {
      const windowTokens = this.options.windowTokens ?? ((a: string, w: number) => this.windowTokens(a, w));
      this.coverage.landed(actor, text, () => windowTokens(actor, window));
      // A text that lists no coverage is a bad summary, unless it is a fallback (which lists none).
      note.covers = this.coverage.of(actor, text, Boolean(event.data.extractive));
      if (this.options.badSummaries.has(text) || this.options.badSummaries.has(text.trim()) || note.covers === null) {
        this.violation("1-summary-first", actor, `bad summary posted for window ${window}: ${JSON.stringify(text.slice(0, 60))}`);
      }
      if (lane.summaryWindows.has(window)) this.violation("3-exactly-once", actor, `window ${window} summary posted twice`);
      if (window <= lane.lastSummaryWindow) this.violation("4-order", actor, `summary of window ${window} after window ${lane.lastSummaryWindow}`);
      for (const t of note.covers ?? []) this.checkOwner(actor, t, "summary");
      lane.summaryWindows.add(window);
      lane.lastSummaryWindow = Math.max(lane.lastSummaryWindow, window);
    }
    this.notes.set(id, note);
    this.options.events.push({ kind: "post", id, type: event.type });
  }

  /**
   * One edit of the session's context message: it replaces the last one. Summary first: every raw
   * action the last edit showed is still raw, or covered by this edit's summary; an action shown raw
   * again after it left the message is a second delivery.
   */
  private applyReplace(actor: string, id: string, event: WebhookEvent): void {
    const { data } = event;
    const key = parseKey(data.note_id ?? "");
    if (!key || data.note_id !== id) return this.violation("protocol", actor, `edit ${id} has note_id ${data.note_id}`);
    const lane = this.lane(actor);
    const kind = data.kind === "summary" ? "summary" : "raw";
    // Edits of one kind land in order (a burst may be written while an earlier summary waits to be).
    if (key.n === lane.lastNote[kind]) this.violation("3-exactly-once", actor, `${kind} edit n${key.n} applied twice (again as ${id})`);
    else if (key.n < lane.lastNote[kind]) this.violation("4-order", actor, `${kind} edit n${key.n} landed after n${lane.lastNote[kind]}`);
    lane.lastNote[kind] = Math.max(lane.lastNote[kind], key.n);
    const previous = this.live({ actor, type: "context.replace" });
    const rawWindows = (data.raw_notes ?? []).map((n) => ({ window: n.window, tokens: tokensIn(n.text) }));
    const tokens = rawWindows.flatMap((r) => r.tokens);
    let covers = new Set<string>();
    const { summary } = data;
    if (summary) {
      const windowTokens = this.options.windowTokens ?? ((a: string, w: number) => this.windowTokens(a, w));
      this.coverage.landed(actor, summary.text, () => windowTokens(actor, summary.window));
      const of = this.coverage.of(actor, summary.text, summary.extractive);
      if (this.options.badSummaries.has(summary.text) || this.options.badSummaries.has(summary.text.trim()) || of === null) {
        this.violation("1-summary-first", actor, `bad summary shown for window ${summary.window}: ${JSON.stringify(summary.text.slice(0, 60))}`);
      }
      covers = of ?? covers;
      if (kind === "summary") {
        if (lane.summaryWindows.has(summary.window)) this.violation("3-exactly-once", actor, `window ${summary.window} summary posted twice`);
        if (summary.window <= lane.lastSummaryWindow) this.violation("4-order", actor, `summary of window ${summary.window} after window ${lane.lastSummaryWindow}`);
        for (const t of covers) this.checkOwner(actor, t, "summary");
        lane.summaryWindows.add(summary.window);
        lane.lastSummaryWindow = Math.max(lane.lastSummaryWindow, summary.window);
      }
    }
    const shownBefore = new Set(previous.flatMap((n) => n.tokens));
    if (kind === "raw") this.checkRaw(actor, lane, id, tokens.filter((t) => !shownBefore.has(t)));
    if (this.options.ledger) {
      const dropped = [...shownBefore].filter((t) => !tokens.includes(t) && !covers.has(t));
      if (dropped.length) this.violation("1-summary-first", actor, `edit ${id} dropped ${dropped.slice(0, 3).join(", ")}, which its summary does not cover`);
    }
    for (const n of previous) n.replaced = true;
    this.notes.set(id, { id, actor, type: event.type, kind, window: summary?.window ?? -1, text: data.text ?? "", tokens, covers, redacted: false, rawWindows });
    this.options.events.push({ kind: "post", id, type: event.type });
  }

  private checkOwner(actor: string, t: string, where: string): void {
    const owner = this.options.ledger?.owner(t);
    if (owner === undefined) return;
    if (owner === null) this.violation("3-exactly-once", actor, `${where} carries ${t}, which was never sent`);
    else if (owner !== actor) this.violation("6-isolated", actor, `${where} carries ${t} of ${owner}`);
  }

  private checkRaw(actor: string, lane: ActorLane, id: string, tokens: string[]): void {
    const { ledger } = this.options;
    if (!ledger) return;
    if (tokens.length === 0) this.violation("protocol", actor, `raw note ${id} carries no action`);
    for (const t of tokens) {
      this.checkOwner(actor, t, "raw note");
      if (lane.rawTokens.has(t)) this.violation("3-exactly-once", actor, `${t} delivered twice (again in ${id})`);
      lane.rawTokens.add(t);
      // Arrival order: an action acknowledged before another was even sent must land first.
      const record = ledger.tokens.get(t);
      if (record && record.acceptedAt !== null && record.acceptedAt < lane.maxSentAt) {
        this.violation("4-order", actor, `${t} (accepted at ${record.acceptedAt}) landed after an action sent at ${lane.maxSentAt}`);
      }
      lane.maxSentAt = Math.max(lane.maxSentAt, record?.sentAt ?? 0);
    }
  }

  private applyRedaction(actor: string, partId: string): void {
    const note = this.notes.get(partId);
    // The build took a note that never arrived for delivered: what it held was lost until a summary covered it.
    if (!note || note.actor !== actor) return this.violation("2-nothing-lost", actor, `redaction of ${partId}, a note that never arrived`);
    if (note.redacted) return this.violation("3-exactly-once", actor, `${partId} redacted twice`);
    if (this.options.ledger) {
      // Summary first: what the note holds must already be covered by another live summary.
      const covered = this.liveCoverage(actor, note.id);
      const held = note.kind === "raw" ? note.tokens : [...(note.covers ?? [])];
      const uncovered = held.filter((t) => !covered.has(t));
      if (uncovered.length) {
        this.violation("1-summary-first", actor, `${note.kind} note ${partId} redacted while ${uncovered.slice(0, 3).join(", ")} not covered by a posted summary`);
      }
    }
    note.redacted = true;
    this.options.events.push({ kind: "redact", id: partId });
  }
}
