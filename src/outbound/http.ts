/**
 * @module
 * The one way out for destinations: one HTTP exchange under one deadline. The deadline covers the
 * body too (an answer whose body never ends is a timeout), redirects are never followed (see
 * `classifyStatus`), and whatever arrives after the deadline is dropped so it cannot act twice.
 * A timeout and a connection failure are told apart for operators, but both leave a post's
 * outcome unknown: the request may have landed.
 */

export interface OutboundRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

export interface Answered {
  kind: "answered";
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: unknown;
}

export interface Lost {
  kind: "lost";
  why: "timed out" | "connection failed";
}

export type Exchange = Answered | Lost;

/**
 * Sends one request and reads the whole answer within `timeoutMs`.
 * @param fetchFn the injected `fetch` (tests fake the world here)
 * @example const answer = await callHttp(deps.fetch, { url, method: "POST", headers, body }, deps.timeoutMs)
 */
export async function callHttp(fetchFn: typeof fetch, request: OutboundRequest, timeoutMs: number): Promise<Exchange> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<Lost>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "lost", why: "timed out" }), timeoutMs);
  });
  const exchange = (async (): Promise<Exchange> => {
    const { url, ...init } = request;
    const res = await fetchFn(url, { ...init, redirect: "manual", signal: controller.signal });
    const text = await res.text();
    return { kind: "answered", status: res.status, headers: res.headers, text, json: parseJson(text) };
  })().catch((err: unknown): Lost => ({ kind: "lost", why: isTimeout(err) ? "timed out" : "connection failed" }));
  try {
    return await Promise.race([exchange, deadline]);
  } finally {
    clearTimeout(timer);
    // Ends a request still in flight; after a full answer it is a no-op.
    controller.abort();
  }
}

/** A platform or proxy timeout surfaces as a `TimeoutError` (DOMException) from fetch itself. */
function isTimeout(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { name?: unknown }).name === "TimeoutError";
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
