/**
 * @module
 * Reading request bodies within a size limit, as text first: signatures are computed over the
 * exact bytes received, and Hono caches the text, so a later `c.req.json()` (the route's
 * validator) reads the same body without touching the stream again.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app";
import { ApiError } from "./errors";

/** Largest request body accepted on any ingest route. */
export const MAX_BODY_BYTES = 1_048_576;

/** The body as text: 413 when larger than `limit`, by Content-Length before reading or by the bytes read. */
export async function readBodyText(c: Context, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  const raw = await c.req.text();
  if (new TextEncoder().encode(raw).byteLength > limit) throw tooLarge(limit);
  return raw;
}

/** The text parsed as JSON, or 400 `invalid_json`. */
export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ApiError(400, "invalid_json", "request body is not valid JSON");
  }
}

/** The media type of a Content-Type header, lower case, without parameters ("" when none). */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
}

/** `application/json`, or a structured `+json` type (`application/vnd.api+json`). */
const isJsonType = (type: string): boolean => type === "application/json" || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);

/**
 * 415 `unsupported_media_type` unless the body is declared JSON; `text/plain` passes only where
 * `textPlain` allows it (the browser-facing link call: `navigator.sendBeacon` and a preflight-free
 * `fetch` send JSON as `text/plain`). Checked before the body is read.
 */
export function requireJsonContentType(c: Context, { textPlain = false } = {}): void {
  const type = mediaType(c.req.header("content-type"));
  if (isJsonType(type) || (textPlain && type === "text/plain")) return;
  const allowed = textPlain ? "application/json or text/plain" : "application/json";
  throw new ApiError(415, "unsupported_media_type", `Content-Type must be ${allowed}, got ${type ? JSON.stringify(type) : "none"}`);
}

/** The body parsed as JSON within `limit` bytes: 415 when not declared JSON, 413, or 400 when it is not JSON. */
export async function readJsonBody(c: Context, limit = MAX_BODY_BYTES): Promise<unknown> {
  requireJsonContentType(c);
  return parseJson(await readBodyText(c, limit));
}

/**
 * Route middleware for a body the route's schema validates: answers 415, 413 and 400 in our
 * error shape before the validator runs. The validator reads only what it recognises as JSON (and
 * skips any other body), so a body accepted here reaches it labelled plain `application/json`.
 * @param limit largest body in bytes (default `MAX_BODY_BYTES`)
 * @param options `textPlain`: also accept a `text/plain` body (see `requireJsonContentType`)
 * @example createRoute({ method: "post", path: "/v1/actions", middleware: [jsonBody()], … })
 */
export function jsonBody(limit = MAX_BODY_BYTES, options: { textPlain?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function jsonBody(c, next) {
    requireJsonContentType(c, options);
    const raw = await readBodyText(c, limit);
    parseJson(raw);
    if (c.req.header("content-type") !== "application/json") {
      const headers = new Headers(c.req.raw.headers);
      headers.set("content-type", "application/json");
      c.req.raw = new Request(c.req.raw, { headers, body: raw });
    }
    await next();
  };
}

function tooLarge(limit: number) {
  return new ApiError(413, "body_too_large", `request body is larger than the limit of ${limit} bytes`);
}
