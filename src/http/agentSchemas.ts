/**
 * @module
 * The schemas of the agent surfaces: a user's activity, a user's sessions, a session's context as
 * the MCP tools answer them. One set of zod objects checks the tools' arguments, declares their
 * output schema (`structuredContent`), and documents the REST twin in `GET /openapi.json`.
 */
import { z } from "@hono/zod-openapi";
import { USER_ACTIVITY } from "../agents/userActivity";
import { LISTING } from "../product/sessionIndex";
import { idProblem, isProductId, PRODUCT_ID } from "./ids";
import { IndexedSessionSchema } from "./productSchemas";
import { firstValue } from "./schemas";

/** An id argument whose problem is named with the argument (a model fixes what it is told). */
const idArgument = (name: string) =>
  z
    .string()
    .min(1, `${name} must not be empty`)
    .check((ctx) => {
      const problem = idProblem(ctx.value);
      if (problem) ctx.issues.push({ code: "custom", message: `${name} ${problem}`, input: ctx.value });
    });

export const agentArguments = {
  product_id: z
    .string()
    .regex(PRODUCT_ID, "product_id must be 1-128 letters, digits, '.', '_' or '-'")
    .refine(isProductId, "product_id must not be '.' or '..'")
    .describe("The product (tenant) id the events were sent with, e.g. \"prod_abc\""),
  user_id: idArgument("user_id").describe("The stable user id the product sends with its events (not a browser session id)"),
  session_id: idArgument("session_id").describe("A session id, as listed by list_user_sessions or get_live_user_activity"),
  activityLimit: z
    .number()
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(USER_ACTIVITY.maxActions, `limit must be at most ${USER_ACTIVITY.maxActions}`)
    .optional()
    .describe(`Most recent actions to return across the user's sessions (default ${USER_ACTIVITY.defaultActions}, at most ${USER_ACTIVITY.maxActions})`),
  sessionsLimit: z
    .number()
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(LISTING.maxLimit, `limit must be at most ${LISTING.maxLimit}`)
    .optional()
    .describe(`Most sessions to list, newest activity first (default 20, at most ${LISTING.maxLimit})`),
  query: z.string().max(4_000, "query must be at most 4000 characters").optional().describe("The question the agent is answering; the context comes back wrapped around it"),
};

const ActionSchema = z.object({
  at: z.string().nullable().openapi({ description: "When it happened (the source's timestamp), ISO; null when the source gave none" }),
  type: z.string(),
  title: z.string(),
  description: z.string(),
  canonical_url: z.string(),
});

export const UserActivitySchema = z
  .object({
    product_id: z.string(),
    user_id: z.string(),
    found: z.boolean().openapi({ description: "False: no session of this user is indexed for this product" }),
    message: z.string().openapi({ description: "What this is, or why it is empty" }),
    sessions: z.array(
      z.object({
        session_id: z.string(),
        created_at: z.string(),
        last_activity_at: z.string(),
        link: z.string().nullable(),
        latest_summary: z.object({ text: z.string(), posted_at: z.string().nullable() }).nullable(),
      }),
    ),
    recent_actions: z.array(ActionSchema.extend({ session_id: z.string() })).openapi({ description: "Across the sessions, newest first" }),
    truncated: z.boolean().openapi({ description: "Older sessions, actions or summaries were left out to stay within the caps" }),
  })
  .openapi("UserActivity");

export const UserSessionsSchema = z.object({
  product_id: z.string(),
  user_id: z.string(),
  found: z.boolean(),
  message: z.string(),
  sessions: z.array(IndexedSessionSchema),
  more: z.boolean(),
});

export const SessionContextReadSchema = z.object({
  product_id: z.string(),
  session_id: z.string(),
  found: z.boolean(),
  context: z.string(),
  clipped: z.boolean(),
});

export const ActivityQuerySchema = z.object({
  limit: firstValue(z.coerce.number().int().min(1).max(USER_ACTIVITY.maxActions))
    .optional()
    .openapi({ description: `Most recent actions across the user's sessions (default ${USER_ACTIVITY.defaultActions}, at most ${USER_ACTIVITY.maxActions})` }),
});
