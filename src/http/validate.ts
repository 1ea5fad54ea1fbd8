/**
 * @module
 * Validation failures in our error shape. `rejectInvalid` is the `app.openapi` hook every route
 * passes: it turns a zod error into a 422 whose code the route chooses for the part that failed
 * and whose message names the fields (`batch[2].actions[0].title: ...`).
 */
import type { ValidationTargets } from "hono/types";
import type { core, ZodError } from "zod";
import { ApiError } from "./errors";

type Issue = core.$ZodIssue;

/**
 * The issues as a person would read them. When every option of a union failed, zod reports the
 * union as a whole; if all options but one were refused outright for their type (an object given
 * where "one batch or an array of them" is expected), the failure is that one option's.
 */
function chosenIssues(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union") return [issue];
    const chosen = issue.errors.filter((option) => !(option.length === 1 && option[0]!.code === "invalid_type" && option[0]!.path.length === 0));
    if (chosen.length !== 1) return [issue];
    return chosenIssues(chosen[0]!.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })));
  });
}

/** Up to five issues as `path: message`; a path that starts at an index is written `root[i]`. */
export function describeIssues(issues: readonly Issue[], root = ""): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, part) => (typeof part === "number" ? `${acc || root}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
        "",
      );
      const message = issue.code === "invalid_type" && /received undefined/.test(issue.message) ? "required" : issue.message;
      return path ? `${path}: ${message}` : message;
    })
    .join("; ");
}

/** A route's answer to a part of the request that failed its schema: a code (the message names the fields), or an error built from the issues. */
type Rejection = string | ((issues: Issue[]) => ApiError);

type ValidationResult = { target: keyof ValidationTargets } & ({ success: true } | { success: false; error: ZodError });

/**
 * The hook for `app.openapi`: throws a 422 for the first part that fails (query, then path,
 * headers, body), coded as the route says; a part the route names no code for is `invalid_request`.
 * @param rejections the code, or the error, for each validated part
 * @example app.openapi(route, handler, rejectInvalid({ param: "invalid_path", json: "invalid_link" }))
 */
export function rejectInvalid(rejections: Partial<Record<keyof ValidationTargets, Rejection>>) {
  return function rejectInvalid(result: ValidationResult): undefined {
    if (result.success) return undefined;
    const issues = chosenIssues(result.error.issues);
    const rejection = rejections[result.target] ?? "invalid_request";
    throw typeof rejection === "string" ? new ApiError(422, rejection, describeIssues(issues)) : rejection(issues);
  };
}

/** The source routes' answer to an unusable `{product_id}`: one fixed message, as they have always given. */
export function invalidProductId(): ApiError {
  return new ApiError(422, "invalid_product_id", "product_id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' or '-', and not '.' or '..'");
}
