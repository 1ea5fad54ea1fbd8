/**
 * A user's activity over REST (`GET /v1/products/:p/users/:user_id/activity`, the MCP tool's twin:
 * the same JSON), its caps and its errors, and its freshness: an action accepted is visible within
 * a second, in an existing session and in a new one, also while the new session's destination
 * hangs (its index entry does not wait for the delivery).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { action, auth, batch, postActions, request, settle, TOKEN, uniqueSession } from "./helpers/api";
import { callTool, mcpClient } from "./helpers/mcp";
import { bearer, createKey, json, putSettings, sleep, type Json } from "./helpers/products";
import { installWorld } from "./helpers/world";

const P = "acme-activity";
const OTHER = "beta-activity";

let installed: ReturnType<typeof installWorld>;
beforeEach(() => {
  installed = installWorld();
});
afterEach(() => installed.restore());

const activityPath = (p: string, user: string, query = "") => `/v1/products/${p}/users/${encodeURIComponent(user)}/activity${query}`;

async function activity(p: string, user: string, query = ""): Promise<{ status: number; body: Json }> {
  return json(await request(activityPath(p, user, query), { headers: auth }));
}

/** Polls the activity until `seen` holds, for at most `withinMs`; how long it took. */
async function visibleWithin(p: string, user: string, seen: (body: Json) => boolean, withinMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const { body } = await activity(p, user);
    if (seen(body)) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`not visible within ${withinMs} ms: ${JSON.stringify(body)}`);
    await sleep(25);
  }
}

const actionsOf = (body: Json) => (body.recent_actions as { session_id: string; description: string }[]).map((a) => `${a.session_id} ${a.description}`);

describe("GET …/users/:user_id/activity", () => {
  it("is the MCP tool's structured content, as JSON", async () => {
    const user = uniqueSession("user");
    const s = uniqueSession();
    await postActions(batch(P, s, 0, 3, { user_id: user }));
    await settle(P, s);
    const rest = await activity(P, user, "?limit=2");
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({
      product_id: P,
      user_id: user,
      found: true,
      sessions: [{ session_id: s, link: null, latest_summary: null }],
      truncated: true,
    });
    expect(actionsOf(rest.body)).toEqual([`${s} User did thing 2`, `${s} User did thing 1`]);
    const client = await mcpClient(TOKEN);
    const tool = await callTool(client, "get_live_user_activity", { product_id: P, user_id: user, limit: 2 });
    expect(tool.structuredContent).toEqual(rest.body);
    await client.close();
  });

  it("shows each session's latest summary; at most 10 sessions, the newest", async () => {
    const user = uniqueSession("user");
    const sessions = Array.from({ length: 11 }, () => uniqueSession("many"));
    for (const s of sessions) {
      // K is 10: a window of ten closes, is summarised and posted.
      await postActions(batch(P, s, 0, 10, { user_id: user }));
      await settle(P, s);
    }
    const { body } = await activity(P, user, "?limit=50");
    const listed = body.sessions as { session_id: string; latest_summary: { text: string } | null }[];
    expect(listed.map((x) => x.session_id)).toEqual(sessions.slice(1).reverse());
    expect(listed.every((x) => x.latest_summary !== null && x.latest_summary.text.length > 0)).toBe(true);
    // The summaries cover every action: none is left to list.
    expect(body).toMatchObject({ truncated: true, recent_actions: [] });
  });

  it("never another user's data: a session whose user changed, actions stamped with another user", async () => {
    const [first, second] = [uniqueSession("first"), uniqueSession("second")];
    const s = uniqueSession("shared");
    await postActions(batch(P, s, 0, 2, { user_id: first }));
    await settle(P, s);
    expect(actionsOf((await activity(P, first)).body)).toEqual([`${s} User did thing 1`, `${s} User did thing 0`]);
    // The same browser session, now someone else's, with one action stamped with a third user.
    await postActions({ ...batch(P, s, 2, 1, { user_id: second }), actions: [action(2), action(3, { user_id: "third" })] });
    await settle(P, s);
    expect((await activity(P, first)).body).toMatchObject({ found: false, sessions: [] });
    expect(actionsOf((await activity(P, second)).body)).toEqual([`${s} User did thing 2`, `${s} User did thing 1`, `${s} User did thing 0`]);
  });

  it("an unknown user or product: 200, found false, a message that says so", async () => {
    for (const [p, user] of [[P, "nobody"], ["no-such-product", "u-1"]] as const) {
      const { status, body } = await activity(p, user);
      expect(status).toBe(200);
      expect(body).toMatchObject({ found: false, sessions: [], recent_actions: [], truncated: false, message: expect.stringContaining("No activity found") });
    }
  });

  it("limit is 1-50 (422 invalid_query); a bad user id is 422 invalid_path", async () => {
    for (const limit of ["0", "51", "ten", "2.5"]) {
      expect(await activity(P, "u-1", `?limit=${limit}`), limit).toMatchObject({ status: 422, body: { error: { code: "invalid_query" } } });
    }
    expect(await activity(P, "u\u0001x")).toMatchObject({ status: 422, body: { error: { code: "invalid_path" } } });
  });

  it("401 without a key; 403 out_of_scope for another product's key or one without read", async () => {
    expect((await request(activityPath(P, "u-1"))).status).toBe(401);
    const { key: other } = await createKey("read-other", [OTHER], ["read"]);
    const { key: ingest } = await createKey("ingest-here", [P], ["ingest"]);
    for (const key of [other, ingest]) {
      expect(await json(await request(activityPath(P, "u-1"), { headers: bearer(key) }))).toMatchObject({ status: 403, body: { error: { code: "out_of_scope" } } });
    }
    const { key: reader } = await createKey("read-here", [P], ["read"]);
    expect((await request(activityPath(P, "u-1"), { headers: bearer(reader) })).status).toBe(200);
  });
});

describe("freshness: an action accepted is visible within one second", () => {
  it("in a new session and in an existing one, with the default settings (no test driving the alarm)", async () => {
    const user = uniqueSession("fresh");
    const s = uniqueSession("fresh-new");
    expect((await postActions(batch(P, s, 0, 1, { user_id: user }))).status).toBe(202);
    expect(await visibleWithin(P, user, (b) => actionsOf(b).includes(`${s} User did thing 0`), 1_000)).toBeLessThan(1_000);
    expect((await postActions(batch(P, s, 1, 1, { user_id: user }))).status).toBe(202);
    expect(await visibleWithin(P, user, (b) => actionsOf(b)[0] === `${s} User did thing 1`, 1_000)).toBeLessThan(1_000);
  });

  it("in a new session whose destination hangs: the first index entry does not wait for the delivery", async () => {
    const p = uniqueSession("fresh-slow");
    expect((await putSettings(p, { destinations: [{ type: "webhook", url: "https://hooks.test/slow", secret: { env: "WEBHOOK_SECRET_B" } }] })).status).toBe(200);
    installed.faults.failDest("slow-landed");
    const user = uniqueSession("fresh");
    const s = uniqueSession("fresh-slow-s");
    expect((await postActions(batch(p, s, 0, 2, { user_id: user }))).status).toBe(202);
    expect(await visibleWithin(p, user, (b) => actionsOf(b).includes(`${s} User did thing 1`), 1_000)).toBeLessThan(1_000);
  });
});
