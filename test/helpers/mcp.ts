/**
 * The official MCP SDK's client against the Worker's `/mcp`, its HTTP going to the Worker's own
 * `fetch` (no network): what Claude Desktop, the inspector or Intercom's connector send.
 */
import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export const MCP_URL = "https://relay.test/mcp";

/** A connected client (initialize done) calling with `Authorization: Bearer <token>`. */
export async function mcpClient(token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    fetch: (url, init) => exports.default.fetch(new Request(url, init)),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "relay-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** A tool call's result, typed as a plain tool result. */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The text of a tool result's first content block. */
export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === "text" ? first.text : "";
}
