/**
 * @module
 * Server-sent event frames as the Autoplay SDK's client reads them: `data: <json>` dispatched on
 * its `type`, `event: heartbeat` ignored, and (beyond the connector) an `id:` on every payload so
 * a reconnect can send `Last-Event-ID`. Frames the SDK does not know (`missed`, `dropped`) carry
 * a `type` it ignores, so an unchanged app skips them while a watcher sees them. Pure.
 */

/** A payload (JSON text, one line) with its id in the product's log. */
export function eventFrame(id: number, data: string): string {
  return `id: ${id}\ndata: ${data}\n\n`;
}

/** Empty data, as the connector sends it. */
export const HEARTBEAT_FRAME = "event: heartbeat\ndata: \n\n";

/**
 * The reconnect's `Last-Event-ID` is older than the log keeps: at least `count` events after it
 * are gone; replay resumes at `resumes_at`.
 */
export function missedFrame(lastEventId: number, resumesAt: number): string {
  const body = { type: "missed", last_event_id: lastEventId, resumes_at: resumesAt, count: resumesAt - lastEventId - 1 };
  return `event: missed\ndata: ${JSON.stringify(body)}\n\n`;
}

/** This subscriber read too slowly: `dropped` frames were left out just before this one (`total` on this stream). */
export function droppedFrame(dropped: number, total: number): string {
  return `event: dropped\ndata: ${JSON.stringify({ type: "dropped", dropped, total })}\n\n`;
}

/** `Last-Event-ID` as a log id: a non-negative integer, else none (a fresh stream). */
export function parseLastEventId(value: string | null | undefined): number | null {
  const v = value?.trim();
  if (!v || !/^\d{1,15}$/.test(v)) return null;
  return Number(v);
}
