/**
 * The MCP server at /mcp, driven by the official SDK's client: initialize, the four tools and
 * their schemas, a key refused on another product (a tool error naming the scope, no data),
 * malformed arguments (an error naming the argument), an unknown user (an empty result that says
 * so), and 401 before MCP without a valid key.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { auth, batch, postActions, request, settle, TOKEN, uniqueSession } from "./helpers/api";
import { callTool, mcpClient, modernMcpClient, textOf } from "./helpers/mcp";
import { bearer, createKey } from "./helpers/products";

const P = "acme-mcp";
const OTHER = "beta-mcp";

/** A user with two sessions, their index entries written. */
async function userWithSessions(user: string): Promise<[string, string]> {
  const [a, b] = [uniqueSession("mcp-a"), uniqueSession("mcp-b")];
  expect((await postActions(batch(P, a, 0, 3, { user_id: user }))).status).toBe(202);
  expect((await postActions(batch(P, b, 10, 2, { user_id: user }))).status).toBe(202);
  await settle(P, a);
  await settle(P, b);
  return [a, b];
}

describe("the MCP server", () => {
  it("initializes and lists its four tools, each with an input and an output schema", async () => {
    const client = await mcpClient(TOKEN);
    expect(client.getServerVersion()).toMatchObject({ name: "context-relay" });
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["get_live_user_activity", "get_session_context", "list_user_sessions", "search_memory"]);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.get_live_user_activity!.inputSchema).toMatchObject({
      type: "object",
      properties: { product_id: { type: "string" }, user_id: { type: "string" }, limit: { type: "integer", maximum: 50 } },
      required: ["product_id", "user_id"],
    });
    expect(byName.get_session_context!.inputSchema).toMatchObject({ required: ["product_id", "session_id"], properties: { query: { type: "string" } } });
    expect(byName.list_user_sessions!.inputSchema).toMatchObject({ required: ["product_id", "user_id"] });
    expect(byName.search_memory!.inputSchema).toMatchObject({
      required: ["product_id", "query"],
      properties: { user_id: { type: "string" }, limit: { type: "integer", maximum: 50 } },
    });
    for (const t of tools) {
      expect(t.description!.length, t.name).toBeGreaterThan(80);
      expect(t.outputSchema, t.name).toMatchObject({ type: "object" });
      expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true });
    }
    await client.close();
  });

  it("serves a 2026-07-28 client too (the SDK's v2 client package)", async () => {
    const user = uniqueSession("user");
    const [, b] = await userWithSessions(user);
    const client = await modernMcpClient(TOKEN);
    expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(4);
    const result = await client.callTool({ name: "get_live_user_activity", arguments: { product_id: P, user_id: user, limit: 1 } });
    expect(result.structuredContent).toMatchObject({ found: true, recent_actions: [{ session_id: b, description: "User did thing 11" }] });
    await client.close();
  });

  it("get_live_user_activity: the user's summaries and recent actions across sessions, newest first, with ids and times", async () => {
    const user = uniqueSession("user");
    const [a, b] = await userWithSessions(user);
    const client = await mcpClient(TOKEN);
    const result = await callTool(client, "get_live_user_activity", { product_id: P, user_id: user, limit: 4 });
    expect(result.isError).toBeFalsy();
    const activity = result.structuredContent as { found: boolean; sessions: { session_id: string }[]; recent_actions: { session_id: string; description: string; at: string }[]; truncated: boolean };
    expect(activity).toMatchObject({ product_id: P, user_id: user, found: true, truncated: true });
    // b is the newer session; its actions (timestamps 10, 11) are the newest.
    expect(activity.sessions.map((s) => s.session_id)).toEqual([b, a]);
    expect(activity.recent_actions.map((x) => [x.session_id, x.description])).toEqual([
      [b, "User did thing 11"],
      [b, "User did thing 10"],
      [a, "User did thing 2"],
      [a, "User did thing 1"],
    ]);
    expect(activity.recent_actions[0]!.at).toBe(new Date((1_700_000_000 + 11) * 1000).toISOString());
    const text = textOf(result);
    expect(text).toContain(`session ${b}`);
    expect(text).toMatch(/1\. 2023-11-14 22:13:31 UTC · session .* · click: User did thing 11/);
    await client.close();
  });

  it("get_session_context: what GET …/context returns; an unknown session says so", async () => {
    const user = uniqueSession("user");
    const [a] = await userWithSessions(user);
    const client = await mcpClient(TOKEN);
    const rest = (await (await request(`/v1/products/${P}/sessions/${a}/context?query=why`, { headers: auth })).json()) as { context: string };
    const result = await callTool(client, "get_session_context", { product_id: P, session_id: a, query: "why" });
    expect(result.structuredContent).toEqual({ product_id: P, session_id: a, found: true, context: rest.context, clipped: false });
    expect(textOf(result)).toBe(rest.context);
    const unknown = await callTool(client, "get_session_context", { product_id: P, session_id: "nobody-here" });
    expect(unknown.isError).toBeFalsy();
    expect(unknown.structuredContent).toMatchObject({ found: false, context: "" });
    expect(textOf(unknown)).toMatch(/No session "nobody-here"/);
    await client.close();
  });

  it("list_user_sessions: the user's sessions from the index, newest activity first", async () => {
    const user = uniqueSession("user");
    const [a, b] = await userWithSessions(user);
    const client = await mcpClient(TOKEN);
    const result = await callTool(client, "list_user_sessions", { product_id: P, user_id: user });
    const listed = result.structuredContent as { sessions: { session_id: string; user_id: string; status: string }[]; more: boolean };
    expect(listed.sessions.map((s) => [s.session_id, s.user_id, s.status])).toEqual([
      [b, user, "active"],
      [a, user, "active"],
    ]);
    expect(listed.more).toBe(false);
    expect(textOf(result)).toContain(`- session ${b} (active)`);
    const one = (await callTool(client, "list_user_sessions", { product_id: P, user_id: user, limit: 1 })).structuredContent as typeof listed;
    expect(one).toMatchObject({ more: true, sessions: [{ session_id: b }] });
    await client.close();
  });

  it("an unknown user or product: an empty result that says so, not an error", async () => {
    const client = await mcpClient(TOKEN);
    for (const [product_id, user_id] of [[P, "no-such-user"], ["no-such-product", "u-1"]] as const) {
      const result = await callTool(client, "get_live_user_activity", { product_id, user_id });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ found: false, sessions: [], recent_actions: [], truncated: false });
      expect(textOf(result)).toContain(`No activity found for user "${user_id}" in product "${product_id}"`);
      const sessions = await callTool(client, "list_user_sessions", { product_id, user_id });
      expect(sessions.structuredContent).toMatchObject({ found: false, sessions: [] });
    }
    await client.close();
  });

  it("a key for one product: its own product answers, another product is a tool error naming the scope, with no data", async () => {
    const user = uniqueSession("user");
    await userWithSessions(user);
    const { key } = await createKey("mcp-read-a", [P], ["read"]);
    const client = await mcpClient(key);
    const own = await callTool(client, "get_live_user_activity", { product_id: P, user_id: user });
    expect(own.structuredContent).toMatchObject({ found: true });
    for (const [tool, args] of [
      ["get_live_user_activity", { product_id: OTHER, user_id: user }],
      ["get_session_context", { product_id: OTHER, session_id: "s-1" }],
      ["list_user_sessions", { product_id: OTHER, user_id: user }],
    ] as const) {
      const refused = await callTool(client, tool, args);
      expect(refused.isError, tool).toBe(true);
      expect(refused.structuredContent, tool).toBeUndefined();
      expect(textOf(refused), tool).toBe(`this key does not cover product "${OTHER}" (the read scope is needed); nothing was read`);
    }
    await client.close();
  });

  it("an index that cannot be reached: a tool error that says to retry, with no details", async () => {
    const client = await mcpClient(TOKEN);
    const spy = vi.spyOn(env.PRODUCT, "getByName").mockImplementation(() => {
      throw new TypeError("internal detail");
    });
    try {
      const result = await callTool(client, "get_live_user_activity", { product_id: P, user_id: "u-1" });
      expect(result).toMatchObject({ isError: true });
      expect(textOf(result)).toBe("the product's index or a session could not be reached; retry the call");
    } finally {
      spy.mockRestore();
    }
    await client.close();
  });

  it("malformed arguments: an error naming the argument, nothing read", async () => {
    const client = await mcpClient(TOKEN);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["get_live_user_activity", { user_id: "u-1" }, /product_id/],
      ["get_live_user_activity", { product_id: P, user_id: "u-1", limit: 0 }, /limit must be at least 1/],
      ["get_live_user_activity", { product_id: P, user_id: "u-1", limit: "ten" }, /limit/],
      ["get_live_user_activity", { product_id: "../etc", user_id: "u-1" }, /product_id must be/],
      ["get_session_context", { product_id: P, session_id: "" }, /session_id must not be empty/],
      ["list_user_sessions", { product_id: P, user_id: "a\u0000b" }, /user_id must not contain control characters/],
    ];
    for (const [tool, args, message] of cases) {
      const result = await callTool(client, tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(result)).toMatch(/Input validation error/);
      expect(textOf(result)).toMatch(message);
    }
    await expect(client.callTool({ name: "no_such_tool", arguments: {} })).rejects.toThrow(/-32602.*no_such_tool not found/);
    await client.close();
  });

  it("401 before MCP without a valid key, 403 for a key without the read scope; GET is 405", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
    const post = (headers: Record<string, string>) =>
      request("/mcp", { method: "POST", headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...headers }, body: JSON.stringify(init) });
    for (const headers of [{} as Record<string, string>, { authorization: "Bearer wrong" }, { authorization: `Bearer crk_AAAAAAAAAAAA_${"A".repeat(43)}` }]) {
      const res = await post(headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    const { key: ingestOnly } = await createKey("mcp-ingest", [P], ["ingest"]);
    expect((await post(bearer(ingestOnly))).status).toBe(403);
    await expect(mcpClient("wrong")).rejects.toThrow();
    const ok = await post({ authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    // A 2025-era request is answered as one server-sent event.
    const data = /^data: (.*)$/m.exec(await ok.text())?.[1];
    expect(JSON.parse(data ?? "null")).toMatchObject({ jsonrpc: "2.0", id: 1, result: { serverInfo: { name: "context-relay" } } });
    const get = await request("/mcp", { headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});
