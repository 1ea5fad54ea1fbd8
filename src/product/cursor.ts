/**
 * @module
 * The session listing's cursor: the position after the last entry of a page (its activity time
 * and session id, the listing's order), base64url JSON. Opaque to callers; a cursor that does not
 * decode is a 422, never a silent first page. Pure.
 */

export interface Position {
  lastActivityAt: number;
  sessionId: string;
}

const toBase64url = (text: string): string =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

function fromBase64url(value: string): string {
  const bytes = Uint8Array.from(atob(value.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
}

export function encodeCursor(p: Position): string {
  return toBase64url(JSON.stringify([p.lastActivityAt, p.sessionId]));
}

/** The position a cursor holds, or null when it is not one of ours. */
export function decodeCursor(cursor: string): Position | null {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(fromBase64url(cursor));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [at, id] = value as unknown[];
    if (typeof at !== "number" || !Number.isSafeInteger(at) || typeof id !== "string") return null;
    return { lastActivityAt: at, sessionId: id };
  } catch {
    return null;
  }
}
