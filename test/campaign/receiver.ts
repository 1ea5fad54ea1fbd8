/**
 * The fake destination: a Standard Webhooks receiver that verifies signatures, dedupes on
 * `webhook-id`, keeps notes and applies redactions, the way an agent's backend would. Invariants
 * that are about the order of events (summary first, exactly once, per-session order, isolation)
 * are checked here, at the moment each event is applied.
 */
import { signWebhook } from "../../src/destinations/webhook";
import { decodeCoverage, tokensIn, type Ledger } from "./ledger";

export type InvariantId = "1-summary-first" | "2-nothing-lost" | "3-exactly-once" | "4-order" | "5-bounded" | "6-isolated" | "liveness" | "protocol";

export interface Violation {
  invariant: InvariantId;
  actor: string;
  message: string;
}

export interface ReceivedNote {
  id: string;
  actor: string;
  kind: "raw" | "summary";
  window: number;
  tokens: string[];
  /** Summaries: what they cover; null if the text carries no coverage (a bad summary). */
  covers: Set<string> | null;
  redacted: boolean;
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
    kind?: string;
    extractive?: boolean;
  };
}

/** `{epoch}-n{id}` → its epoch and note number. */
function parseKey(key: string): { epoch: string; n: number } | null {
  const m = /^(.+)-n(\d+)$/.exec(key);
  return m ? { epoch: m[1]!, n: Number(m[2]) } : null;
}

export class Receiver {
  readonly notes = new Map<string, ReceivedNote>();
  readonly seen = new Set<string>();
  readonly violations: Violation[] = [];
  /** Texts the fake LLM produced that must never be posted (empty, error-looking, too long). */
  readonly badSummaries = new Set<string>();
  /** Per actor, what the prompts the fake LLM refused (400) covered: the service's extractive fallback covers the same. */
  readonly fallbackCoverage = new Map<string, Set<string>>();
  deliveries = 0;
  redeliveries = 0;
  private readonly lanes = new Map<string, ActorLane>();

  constructor(
    private readonly ledger: Ledger,
    private readonly key: Uint8Array,
  ) {}

  private violation(invariant: InvariantId, actor: string, message: string): void {
    this.violations.push({ invariant, actor, message });
  }

  /** One lane per actor: the campaign never erases a session, so one epoch's notes follow another's. */
  private lane(actor: string): ActorLane {
    const id = actor;
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = { lastNote: { raw: 0, summary: 0 }, lastSummaryWindow: 0, maxSentAt: 0, rawTokens: new Set(), summaryWindows: new Set() };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  /** Live notes of one actor. */
  live(actor: string): ReceivedNote[] {
    return [...this.notes.values()].filter((n) => n.actor === actor && !n.redacted);
  }

  liveRawTokens(actor: string): Set<string> {
    return new Set(this.live(actor).filter((n) => n.kind === "raw").flatMap((n) => n.tokens));
  }

  liveCoverage(actor: string, except?: string): Set<string> {
    const out = new Set<string>();
    for (const n of this.live(actor)) if (n.kind === "summary" && n.id !== except) for (const t of n.covers ?? []) out.add(t);
    return out;
  }

  /** Verifies, dedupes and applies one delivery. Returns false when the signature is wrong. */
  async receive(headers: Headers, body: string): Promise<boolean> {
    const id = headers.get("webhook-id") ?? "";
    const timestamp = Number(headers.get("webhook-timestamp"));
    const expected = await signWebhook(this.key, id, timestamp, body);
    if (headers.get("webhook-signature") !== expected) {
      this.violation("protocol", "?", `bad signature on ${id}`);
      return false;
    }
    this.deliveries += 1;
    if (this.seen.has(id)) {
      this.redeliveries += 1;
      return true;
    }
    this.seen.add(id);
    this.apply(id, JSON.parse(body) as WebhookEvent);
    return true;
  }

  private apply(id: string, event: WebhookEvent): void {
    const actor = `${event.data.product_id}:${event.data.session_id}`;
    if (event.type === "context.redaction") return this.applyRedaction(actor, event.data.redacts ?? "");
    const key = parseKey(event.data.note_id ?? "");
    if (!key || key.epoch === "" || event.data.note_id !== id) {
      return this.violation("protocol", actor, `note ${id} has note_id ${event.data.note_id}`);
    }
    const lane = this.lane(actor);
    const kind = event.type === "context.summary" ? "summary" : "raw";
    if (key.n <= lane.lastNote[kind]) this.violation("4-order", actor, `${kind} note n${key.n} landed after n${lane.lastNote[kind]}`);
    lane.lastNote[kind] = Math.max(lane.lastNote[kind], key.n);
    const window = event.data.window ?? -1;
    if (event.type === "context.raw_note") {
      const tokens = (event.data.actions ?? []).flatMap((a) => tokensIn(a.description ?? ""));
      this.checkRaw(actor, lane, id, tokens);
      this.notes.set(id, { id, actor, kind: "raw", window, tokens, covers: null, redacted: false });
    } else if (event.type === "context.summary") {
      const text = event.data.text ?? "";
      // An extractive fallback quotes the summary it builds on; it covers the refused prompt as well.
      const fallback = event.data.extractive ? this.fallbackCoverage.get(actor) : undefined;
      const quoted = decodeCoverage(text);
      const covers = fallback ? new Set([...(quoted ?? []), ...fallback]) : quoted;
      if (this.badSummaries.has(text) || covers === null) {
        this.violation("1-summary-first", actor, `bad summary posted for window ${window}: ${JSON.stringify(text.slice(0, 60))}`);
      }
      if (lane.summaryWindows.has(window)) this.violation("3-exactly-once", actor, `window ${window} summary posted twice`);
      if (window <= lane.lastSummaryWindow) {
        this.violation("4-order", actor, `summary of window ${window} after window ${lane.lastSummaryWindow}`);
      }
      for (const t of covers ?? []) this.checkOwner(actor, t, "summary");
      lane.summaryWindows.add(window);
      lane.lastSummaryWindow = Math.max(lane.lastSummaryWindow, window);
      this.notes.set(id, { id, actor, kind: "summary", window, tokens: [], covers, redacted: false });
    } else {
      this.violation("protocol", actor, `unknown event type ${event.type}`);
    }
  }

  private checkOwner(actor: string, t: string, where: string): void {
    const owner = this.ledger.owner(t);
    if (owner === null) this.violation("3-exactly-once", actor, `${where} carries ${t}, which was never sent`);
    else if (owner !== actor) this.violation("6-isolated", actor, `${where} carries ${t} of ${owner}`);
  }

  private checkRaw(actor: string, lane: ActorLane, id: string, tokens: string[]): void {
    if (tokens.length === 0) this.violation("protocol", actor, `raw note ${id} carries no action`);
    for (const t of tokens) {
      this.checkOwner(actor, t, "raw note");
      if (lane.rawTokens.has(t)) this.violation("3-exactly-once", actor, `${t} delivered twice (again in ${id})`);
      lane.rawTokens.add(t);
      // Arrival order: an action acknowledged before another was even sent must land first.
      const record = this.ledger.tokens.get(t);
      if (record && record.acceptedAt !== null && record.acceptedAt < lane.maxSentAt) {
        this.violation("4-order", actor, `${t} (accepted at ${record.acceptedAt}) landed after an action sent at ${lane.maxSentAt}`);
      }
      lane.maxSentAt = Math.max(lane.maxSentAt, record?.sentAt ?? 0);
    }
  }

  private applyRedaction(actor: string, partId: string): void {
    const note = this.notes.get(partId);
    if (!note || note.actor !== actor) return this.violation("3-exactly-once", actor, `redaction of unknown note ${partId}`);
    if (note.redacted) return this.violation("3-exactly-once", actor, `${partId} redacted twice`);
    // Summary first: what the note holds must already be covered by another live summary.
    const covered = this.liveCoverage(actor, note.id);
    const held = note.kind === "raw" ? note.tokens : [...(note.covers ?? [])];
    const uncovered = held.filter((t) => !covered.has(t));
    if (uncovered.length) {
      this.violation("1-summary-first", actor, `${note.kind} note ${partId} redacted while ${uncovered.slice(0, 3).join(", ")} not covered by a posted summary`);
    }
    note.redacted = true;
  }
}
