// Our worker's session state route, read tolerantly: its shape may grow.
import { AUTH, PRODUCT } from "./constants.mjs";
import { getJson } from "./client.mjs";

/** The session's state, or `{ _status, _body }` / `{ _error }` when it could not be read. */
export async function sessionState(port, sessionId) {
  try {
    const r = await getJson(port, `/v1/products/${PRODUCT}/sessions/${encodeURIComponent(sessionId)}`, AUTH);
    return r.status === 200 ? r.json : { _status: r.status, _body: r.body.slice(0, 300) };
  } catch (err) {
    return { _error: err.message };
  }
}

/** true / false when the state says so; null when it has none of the fields we know. */
export function isIdle(state) {
  if (!state || typeof state !== "object" || state._status || state._error) return null;
  const known = [];
  if (state.pending && typeof state.pending === "object" && "actions" in state.pending) known.push(Number(state.pending.actions) === 0);
  if (state.windows && typeof state.windows === "object" && "unsummarised" in state.windows) known.push(Number(state.windows.unsummarised) === 0);
  if (state.windows && typeof state.windows === "object" && "unposted" in state.windows) known.push(Number(state.windows.unposted) === 0);
  if ("step" in state) known.push(state.step === null || state.step === undefined);
  // A raw note its lane's posted summaries cover is still to be redacted: the lane is not done.
  if (Array.isArray(state.lanes)) known.push(state.lanes.every((l) => !(l.notes ?? []).some((n) => n.kind === "raw" && n.posted_at && n.window <= l.covered_through)));
  if (known.length === 0) return null;
  return known.every(Boolean);
}
