/**
 * @module
 * Fan-out: what each lane (one outbound destination of the session) still needs from the rows
 * every lane shares. Pure. `S` is the session's own coverage: its newest stored summary.
 *
 * Every burst reaches each destination raw as it happens, then the summary covering it, as the SDK
 * writes them. A lane posts summaries in window order (independent mode) or only the newest
 * (rolling, which covers everything before it). What one lane still needs is kept for it alone:
 * the batches it has not sent raw, the summaries it has not posted, its own live notes. A lane
 * down for long would keep all of them, so a lane keeps at most {@link LANE_MAX_LAG_WINDOWS}
 * windows behind the session's newest summary: past that it skips the oldest (their raw, and in
 * independent mode their summaries, counted) and catches up from the recent ones, as a lane added
 * now starts from the current context. So what a lane keeps is O(K) however long it is down.
 * Summaries that cover raw notes the lane holds are never skipped (summary first).
 */

/** How many windows a lane may fall behind the session's newest summary before it skips the oldest. */
export const LANE_MAX_LAG_WINDOWS = 32;

export interface LanePosition {
  /** Its posted summaries cover windows up to here. */
  covered: number;
}

/** Raw notes go out in a lane only for batches of windows after this one. */
export function rawFloor(lane: LanePosition, ownCovered: number): number {
  return Math.max(lane.covered, ownCovered - LANE_MAX_LAG_WINDOWS);
}

/**
 * The windows whose summaries the lane must still post, oldest first.
 * @param summarised the stored summaries' windows, ascending (the last is S)
 * @param rawNoteWindows windows of the lane's live raw notes
 */
export function summariesToPost(lane: LanePosition, summarised: readonly number[], rawNoteWindows: readonly number[], rolling: boolean): number[] {
  const newest = summarised.at(-1);
  if (newest === undefined || newest <= lane.covered) return [];
  if (rolling) return [newest];
  const recentFrom = rawFloor(lane, newest);
  const needed = new Set(summarised.filter((w) => w > recentFrom));
  for (const r of rawNoteWindows) {
    if (r <= lane.covered) continue;
    // The summary stored on the first window at or after the note's covers it (catch-up spans).
    const covering = summarised.find((w) => w >= r);
    if (covering !== undefined) needed.add(covering);
  }
  return [...needed].sort((a, b) => a - b);
}

/** The new lane's position: it posts the latest summary (window S) and the raw since. */
export function startingPosition(ownCovered: number): LanePosition {
  return { covered: Math.max(0, ownCovered - 1) };
}
