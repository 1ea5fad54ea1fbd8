/**
 * @module
 * How memory reads a question and ranks what it finds. Pure.
 *
 * - A natural-language question becomes an FTS5 query: its words, lowercased, stop words dropped,
 *   each quoted (so no word is FTS5 syntax) and OR-ed, so no single word is required; the porter
 *   tokenizer matches their forms ("exporting" finds "exported"). BM25 ranks by how many and how
 *   rare the matched words are.
 * - Hybrid ranking is reciprocal rank fusion: a hit's score is the sum over the rankings it is in
 *   (BM25, cosine) of 1 / (RRF_K + rank). Ranks, not raw scores, so BM25's unbounded values and
 *   cosine's [-1, 1] need no calibration, and a summary both find comes first.
 */

/** Words that say how a question is asked, not what it is about. */
const STOP_WORDS = new Set(
  (
    "a about above after again all also am an and any are as at be been before being below between both but by can could " +
    "did do does doing done down during each few for from further had has have having he her here hers him his how i if in " +
    "into is it its itself just me more most my no nor not now of off on once only or other our ours out over own same she " +
    "should so some such than that the their theirs them then there these they this those through to too under until up " +
    "user users very was we were what when where which while who whom why will with would you your yours ever try tried trying"
  ).split(" "),
);

/** Most words a query keeps (a pasted paragraph is not a question). */
const MAX_TERMS = 32;

/** The distinct content words of a question, in order (none for a question of stop words only: it is about nothing). */
export function queryTerms(question: string): string[] {
  const words = question.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP_WORDS.has(w)))].slice(0, MAX_TERMS);
}

/** The FTS5 MATCH expression for a question, or null when it has no content word. */
export function ftsMatch(question: string): string | null {
  const terms = queryTerms(question);
  return terms.length === 0 ? null : terms.map((t) => `"${t}"`).join(" OR ");
}

export const RRF_K = 60;

/** Fuses rankings (ids, best first) into one, best first, with each id's fused score. */
export function fuseRankings(rankings: readonly (readonly string[])[]): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, i) => scores.set(id, (scores.get(id) ?? 0) + 1 / (RRF_K + i + 1)));
  }
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}

/** Cosine similarity; 0 for a zero vector or vectors of different lengths. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
