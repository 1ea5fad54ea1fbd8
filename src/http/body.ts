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

/** The body parsed as JSON within `limit` bytes: 413, or 400 when it is not JSON. */
export async function readJsonBody(c: Context, limit = MAX_BODY_BYTES): Promise<unknown> {
  return parseJson(await readBodyText(c, limit));
}

/**
 * Route middleware for a body the route's schema validates: answers 413 and 400 in our error
 * shape before the validator runs. The API reads every body as JSON whatever its Content-Type,
 * as it always has (a browser's preflight-free `text/plain` POST, a client that sends none),
 * while the validator reads only declared JSON and answers any other type 415, so the request
 * it sees is marked as JSON.
 * @param limit largest body in bytes (default `MAX_BODY_BYTES`)
 * @example createRoute({ method: "post", path: "/v1/actions", middleware: [jsonBody()], … })
 */
export function jsonBody(limit = MAX_BODY_BYTES): MiddlewareHandler<AppEnv> {
  return async function jsonBody(c, next) {
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
