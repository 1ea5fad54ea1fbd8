/**
 * @module
 * The app type every route file registers on, and the shared raw-body reader (raw text is kept
 * because signatures are computed over the exact bytes received).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "./errors";

export type AppEnv = { Bindings: Env };
export type App = OpenAPIHono<AppEnv>;

/** Largest request body accepted on any ingest route. */
export const MAX_BODY_BYTES = 1_048_576;

/**
 * Reads the body as text within `limit` bytes, then parses it as JSON.
 * 413 when too large (by Content-Length or by the bytes actually read), 400 when not JSON.
 */
export async function readJsonBody(c: Context<AppEnv>, limit = MAX_BODY_BYTES): Promise<{ raw: string; json: unknown }> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  const raw = await c.req.text();
  if (new TextEncoder().encode(raw).byteLength > limit) throw tooLarge(limit);
  try {
    return { raw, json: JSON.parse(raw) };
  } catch {
    throw new ApiError(400, "invalid_json", "request body is not valid JSON");
  }
}

function tooLarge(limit: number) {
  return new ApiError(413, "body_too_large", `request body is larger than the limit of ${limit} bytes`);
}
