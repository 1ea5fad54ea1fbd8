/**
 * What the campaign's client knows: every action it sent is a unique token (`tok-<session>-<n>`,
 * carried in the action's description, so it shows in raw notes and prompts), with the logical
 * times it was first sent and first acknowledged (202). Summaries written by the fake LLM list
 * the tokens they cover as `covers:[0:1-5,7]`, so coverage can be checked at the receiver.
 */

export const TOKEN_RE = /tok-(\d+)-(\d+)/g;
const COVERS_RE = /covers:\[([^\]]*)\]/;

export function token(session: number, n: number): string {
  return `tok-${session}-${n}`;
}

export function tokensIn(text: string): string[] {
  return [...text.matchAll(TOKEN_RE)].map((m) => m[0]);
}

/** `covers:[0:1-5,7|2:3]`: per session index, sorted numbers as ranges. */
export function encodeCoverage(tokens: Iterable<string>): string {
  const bySession = new Map<number, number[]>();
  for (const t of tokens) {
    const m = /^tok-(\d+)-(\d+)$/.exec(t);
    if (!m) continue;
    const list = bySession.get(Number(m[1])) ?? [];
    list.push(Number(m[2]));
    bySession.set(Number(m[1]), list);
  }
  const parts = [...bySession.entries()]
    .sort(([a], [b]) => a - b)
    .map(([session, ns]) => {
      const sorted = [...new Set(ns)].sort((a, b) => a - b);
      const ranges: string[] = [];
      for (let i = 0; i < sorted.length; ) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
        ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
        i = j + 1;
      }
      return `${session}:${ranges.join(",")}`;
    });
  return `covers:[${parts.join("|")}]`;
}

/** The tokens a summary says it covers; null when the text has no coverage marker (not ours). */
export function decodeCoverage(text: string): Set<string> | null {
  const m = COVERS_RE.exec(text);
  if (!m) return null;
  const out = new Set<string>();
  for (const part of m[1]!.split("|").filter(Boolean)) {
    const [session, ranges] = part.split(":");
    for (const r of (ranges ?? "").split(",").filter(Boolean)) {
      const [a, b] = r.split("-").map(Number);
      for (let n = a!; n <= (b ?? a!); n++) out.add(token(Number(session), n));
    }
  }
  return out;
}

export interface TokenRecord {
  actor: string;
  /** Logical time the first POST carrying it was sent. */
  sentAt: number;
  /** Logical time the first 202 for it came back; null until then. */
  acceptedAt: number | null;
}

/** The client's record of tokens and a logical clock (ticks on every send and every answer). */
export class Ledger {
  private clock = 0;
  readonly tokens = new Map<string, TokenRecord>();

  tick(): number {
    this.clock += 1;
    return this.clock;
  }

  sent(tokens: readonly string[], actor: string): void {
    const at = this.tick();
    for (const t of tokens) if (!this.tokens.has(t)) this.tokens.set(t, { actor, sentAt: at, acceptedAt: null });
  }

  accepted(tokens: readonly string[]): void {
    const at = this.tick();
    for (const t of tokens) {
      const r = this.tokens.get(t);
      if (r && r.acceptedAt === null) r.acceptedAt = at;
    }
  }

  acceptedFor(actor: string): string[] {
    return [...this.tokens.entries()].filter(([, r]) => r.actor === actor && r.acceptedAt !== null).map(([t]) => t);
  }

  owner(t: string): string | null {
    return this.tokens.get(t)?.actor ?? null;
  }
}
