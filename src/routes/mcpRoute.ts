/**
 * @module
 * `POST /mcp`: the MCP server over Streamable HTTP, stateless (no MCP session: each request builds
 * the server for its caller), so any isolate serves any request; 2025-era clients (`initialize`)
 * and 2026-07-28 ones (`server/discover`) alike. The bearer credential is checked first, as on
 * every key-scoped route: none or an unknown one is a 401 before MCP is spoken, a key without the
 * read scope a 403. Which products the key covers is checked per tool call (`mcp/server.ts`).
 * `GET` and `DELETE /mcp` (a server-sent stream, ending an MCP session) do not apply: 405.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createMcpHandler } from "@modelcontextprotocol/server";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { ApiError } from "../http/errors";
import { keyAuthResponses } from "../http/schemas";
import { buildMcpServer } from "../mcp/server";

/** Larger than any tool call's arguments; the transport answers 413 past it. */
const MAX_MCP_BODY_BYTES = 65_536;

const JsonRpcSchema = z.looseObject({ jsonrpc: z.literal("2.0") }).openapi("JsonRpcMessage", { description: "A JSON-RPC 2.0 message (or a batch) of MCP" });

const route = createRoute({
  method: "post",
  path: "/mcp",
  tags: ["agents"],
  summary: "MCP server (Streamable HTTP, stateless)",
  description:
    "Tools: get_live_user_activity {product_id, user_id, limit?}, get_session_context {product_id, session_id, query?}, " +
    "list_user_sessions {product_id, user_id, limit?}. Send `Accept: application/json, text/event-stream`. A key needs the read " +
    "scope; a tool call for a product the key does not cover is a tool error (isError), never data.",
  security: [{ bearer: [] }],
  middleware: requireAccess("POST /mcp"),
  responses: {
    200: { description: "The JSON-RPC answer", content: { "application/json": { schema: JsonRpcSchema } } },
    202: { description: "A notification, accepted" },
    ...keyAuthResponses,
  },
});

export function registerMcp(app: App): void {
  app.openapi(route, async (c) => {
    const principal = c.get("principal");
    const handler = createMcpHandler(() => buildMcpServer(c.env, principal), { maxRequestBodySize: MAX_MCP_BODY_BYTES });
    // The SDK's own answer (JSON-RPC result or error, 202, 406, 413), typed as any route's.
    return (await handler.fetch(c.req.raw)) as never;
  });
  app.on(["GET", "DELETE"], "/mcp", requireAccess("POST /mcp"), () => {
    throw new ApiError(405, "method_not_allowed", "this MCP server is stateless: POST JSON-RPC messages to /mcp", { allow: "POST" });
  });
}
