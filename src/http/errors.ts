/**
 * @module
 * One error shape for every route: `{"error": {"code", "message"}}`. Routes throw `ApiError`;
 * `onError` in worker.ts turns it (and anything unexpected) into a response exactly once.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}
