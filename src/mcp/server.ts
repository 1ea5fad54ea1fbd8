/**
 * @module
 * The MCP server's tools, a thin adapter over `agents/reads.ts` (the REST twin reads the same):
 * `get_live_user_activity`, `get_session_context`, `list_user_sessions`, and `search_memory` over
 * the product's memory (`agents/memorySearch.ts`). A server is built per
 * request for its verified caller (the transport is stateless), so every tool checks the product
 * it is asked about against that caller's key and answers a refusal as a tool error naming the
 * scope, before anything is read.
 */
import { McpServer, type CallToolResult } from "@modelcontextprotocol/server";
import { z } from "@hono/zod-openapi";
import { sessionContextText, userActivityText, userSessionsText } from "../agents/activityText";
import { memoryText, readMemory } from "../agents/memorySearch";
import { readSessionContext, readUserActivity, readUserSessions } from "../agents/reads";
import { USER_ACTIVITY } from "../agents/userActivity";
import { agentArguments as arg, SessionContextReadSchema, UserActivitySchema, UserSessionsSchema } from "../http/agentSchemas";
import { memoryArguments, MemoryResultsSchema } from "../http/memorySchemas";
import { log } from "../log";
import { outOfScope, type Principal } from "../product/scopes";

const SERVER_INFO = { name: "context-relay", version: "0.1.0" } as const;
const DEFAULT_SESSIONS = 20;

const INSTRUCTIONS =
  "Context Relay holds what each user of a product is doing right now, kept current as events arrive. " +
  "Start with get_live_user_activity when you know who the customer is (their user id); use list_user_sessions " +
  "and get_session_context to look at one browser session in full; search_memory recalls what users did in earlier sessions.";

/** A refusal or a failed read, as a tool error the model sees; never data. */
const toolError = (text: string): CallToolResult => ({ content: [{ type: "text", text }], isError: true });

const answer = <T extends object>(text: string, structured: T): CallToolResult => ({
  content: [{ type: "text", text }],
  structuredContent: structured as Record<string, unknown>,
});

export function buildMcpServer(env: Env, principal: Principal): McpServer {
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  /** Runs `read` only when the caller's key covers the product with the read scope. */
  const guarded = async (productId: string, read: () => Promise<CallToolResult>): Promise<CallToolResult> => {
    const refusal = outOfScope(principal, "read", [productId]);
    if (refusal) return toolError(`${refusal} (the read scope is needed); nothing was read`);
    try {
      return await read();
    } catch (err) {
      // As the REST routes answer an unexpected error: its kind in the log, no details to the caller.
      log("mcp:error", { error: err instanceof Error ? err.name : "unknown" });
      return toolError("the product's index or a session could not be reached; retry the call");
    }
  };
  const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool(
    "get_live_user_activity",
    {
      title: "Live activity of a user",
      description:
        "What a user of the product is doing right now, across all their browser sessions: each session's latest summary and the " +
        "most recent actions (page, element, what they did), newest first, with session ids and UTC times. Use this first when you " +
        "know the customer's user id, e.g. to answer a support question with what they just tried. An unknown user gives an empty " +
        `result that says so. At most ${USER_ACTIVITY.maxSessions} sessions and ${USER_ACTIVITY.maxTextChars} characters.`,
      inputSchema: z.object({ product_id: arg.product_id, user_id: arg.user_id, limit: arg.activityLimit }),
      outputSchema: UserActivitySchema,
      annotations: readOnly,
    },
    ({ product_id, user_id, limit }) =>
      guarded(product_id, async () => {
        const activity = await readUserActivity(env, product_id, user_id, limit ?? USER_ACTIVITY.defaultActions);
        return answer(userActivityText(activity), activity);
      }),
  );

  server.registerTool(
    "get_session_context",
    {
      title: "Context of one session",
      description:
        "The context of one browser session, as an agent should read it: its latest summary, then every action the summary does not " +
        "cover yet, oldest first. Pass query (the question you are answering) to get the context wrapped around it. Use it after " +
        "list_user_sessions or get_live_user_activity named the session. An unknown session gives an empty result that says so.",
      inputSchema: z.object({ product_id: arg.product_id, session_id: arg.session_id, query: arg.query }),
      outputSchema: SessionContextReadSchema,
      annotations: readOnly,
    },
    ({ product_id, session_id, query }) =>
      guarded(product_id, async () => {
        const read = await readSessionContext(env, product_id, session_id, query);
        return answer(sessionContextText(read), read);
      }),
  );

  server.registerTool(
    "list_user_sessions",
    {
      title: "A user's sessions",
      description:
        "The browser sessions of a user of the product, newest activity first, each with its status (active, linked, parked, idle), " +
        "times, linked conversation and counts. Use it to pick a session for get_session_context. An unknown user gives an empty list that says so.",
      inputSchema: z.object({ product_id: arg.product_id, user_id: arg.user_id, limit: arg.sessionsLimit }),
      outputSchema: UserSessionsSchema,
      annotations: readOnly,
    },
    ({ product_id, user_id, limit }) =>
      guarded(product_id, async () => {
        const sessions = await readUserSessions(env, product_id, user_id, limit ?? DEFAULT_SESSIONS);
        return answer(userSessionsText(sessions), sessions);
      }),
  );

  server.registerTool(
    "search_memory",
    {
      title: "Search past sessions",
      description:
        "Searches the summaries of every session of the product (or of one user with user_id), including sessions that ended days ago, " +
        'for a question in plain words, e.g. "did this user try to export invoices?". Returns the best-matching summaries first, with ' +
        "session id, user id, UTC time and score. No single word has to match; word forms match. Memory off or no match gives an empty result that says so.",
      inputSchema: z.object({ product_id: arg.product_id, query: memoryArguments.query, user_id: arg.user_id.optional(), limit: memoryArguments.limit }),
      outputSchema: MemoryResultsSchema,
      annotations: readOnly,
    },
    ({ product_id, query, user_id, limit }) =>
      guarded(product_id, async () => {
        const results = await readMemory(env, product_id, query, user_id, limit);
        return answer(memoryText(results), results);
      }),
  );

  return server;
}
