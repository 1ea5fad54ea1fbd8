/**
 * The official MCP SDK's clients against the Worker's `/mcp`, their HTTP going to the Worker's own
 * `fetch` (no network): the v1 SDK's (the 2025 handshake: what Claude Desktop, the inspector or
 * Intercom's connector send) and the v2 client package's (the 2026-07-28 revision).
 */
import { exports } from "cloudflare:workers";
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from "@modelcontextprotocol/client";
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

/** The v2 client package's client (`@modelcontextprotocol/client`), connected in the 2026-07-28 era. */
export async function modernMcpClient(token: string): Promise<ModernClient> {
  const transport = new ModernTransport(new URL(MCP_URL), {
    fetch: (url, init) => exports.default.fetch(new Request(url, init)),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  // Pinned: a server that answered only the 2025 handshake fails the connect.
  const client = new ModernClient({ name: "relay-test-modern", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await client.connect(transport);
  return client;
}
