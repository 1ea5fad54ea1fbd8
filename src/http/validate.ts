/**
 * @module
 * Turns zod issues into one readable message naming the field (`batch[2].actions[0].title: ...`).
 */
import type { ZodError } from "zod";
import { ApiError } from "./errors";

export function describeIssues(error: ZodError, prefix = ""): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
        prefix,
      );
      const message = issue.code === "invalid_type" && /received undefined/.test(issue.message) ? "required" : issue.message;
      return path ? `${path}: ${message}` : message;
    })
    .join("; ");
}

/** Parses with `schema` or throws a 422 whose message names every offending field (up to five). */
export function parseOr422<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  value: unknown,
  code: string,
  prefix = "",
): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiError(422, code, describeIssues(result.error, prefix));
  return result.data;
}
