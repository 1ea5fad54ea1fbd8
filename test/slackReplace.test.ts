/**
 * DELIVERY=replace end to end, per product destination (workers-slack bindings): Slack keeps one
 * context message per session, `chat.update`d on every burst and summary; the webhook destination
 * sends `context.replace` events for one `message_id`. Neither ever redacts, and every edit holds
 * the latest summary and every raw action it does not cover.
 */
import { describe, expect, it, vi } from "vitest";
import { useSlackEmulator } from "./helpers/slackEmulator";
import { auth, batch, getState, postActions, request, settle, stubFor, uniqueSession } from "./helpers/api";

const emulator = useSlackEmulator();

async function configure(productId: string, destination: Record<string, unknown>): Promise<void> {
  const res = await request(`/v1/products/${productId}`, { method: "PUT", headers: auth, body: JSON.stringify({ destinations: [destination] }) });
  expect(res.status, await res.clone().text()).toBe(200);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `settle`, waiting out the channel's one-second pace. */
async function drain(productId: string, session: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await settle(productId, session);
    const state = await stubFor(productId, session).state();
    const at = state?.next_alarm_at ? Date.parse(state.next_alarm_at) - Date.now() : null;
    if (at === null || at > 2_500) return;
    await sleep(Math.max(at, 0) + 20);
  }
}

/** The descriptions (`thing N`) a text shows. */
const things = (text: string) => [...text.matchAll(/User did thing (\d+)/g)].map((m) => Number(m[1]));

describe("DELIVERY=replace", () => {
  it("Slack: one message per session, edited each burst and summary, never missing context, no deletes", async () => {
    const P = "p-replace-slack";
    const channel = emulator().createChannel();
    await configure(P, { type: "slack", bot_token: { env: "SLACK_BOT_TOKEN" }, channel, delivery: "replace" });
    const s = uniqueSession();
    for (let i = 0; i < 15; i += 5) {
      expect((await postActions(batch(P, s, i, 5, { user_id: "u-9" }))).status).toBe(202);
      await drain(P, s);
    }
    const messages = emulator().messages(channel);
    expect(messages).toHaveLength(1);
    const writes = emulator().calls.filter((c) => c.method === "chat.postMessage" || c.method === "chat.update");
    expect(writes.map((c) => c.method)).toEqual(["chat.postMessage", "chat.update", "chat.update", "chat.update"]);
    expect(writes.every((c) => c.error === null)).toBe(true);
    expect(emulator().calls.some((c) => c.method === "chat.delete")).toBe(false);
    // Each edit: every action is raw or its window's summary is shown (K=10: window 1 is things 0-9).
    const texts = writes.map((c) => String(c.args.text));
    expect(texts.map(things)).toEqual([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], expect.any(Array), expect.arrayContaining([10, 11, 12, 13, 14])]);
    expect(texts.slice(2).every((t) => t.includes("*Summary* \u2014 window 1"))).toBe(true);
    expect(texts[3]).toMatch(/^\*Session context\* \u2014 session s-\S+ \u00b7 user u-9/);
    expect(messages[0]!.text).toBe(texts[3]);
    const { body: state } = await getState(P, s);
    expect(state.counters).toMatchObject({ raw_notes_posted: 3, summary_notes_posted: 1, redactions: 0 });
  });

  it("webhook: context.replace events for one message_id, each with a new webhook-id, the last holding the summary and the raw since", async () => {
    const P = "p-replace-webhook";
    await configure(P, { type: "webhook", url: "https://hooks.test/relay", secret: { env: "WEBHOOK_SECRET" }, delivery: "replace" });
    const events: { id: string; body: { type: string; data: { message_id: string; text: string; kind: string; raw_notes: { text: string; window: number }[]; summary: { window: number } | null } } }[] = [];
    vi.mocked(globalThis.fetch).mockImplementation(async (input, init) => {
      const req = new Request(input, init);
      if (new URL(req.url).host !== "hooks.test") return emulator().fetch(req);
      events.push({ id: req.headers.get("webhook-id")!, body: await req.json() });
      return new Response(null, { status: 204 });
    });
    const s = uniqueSession();
    for (let i = 0; i < 15; i += 5) {
      expect((await postActions(batch(P, s, i, 5))).status).toBe(202);
      await settle(P, s);
    }
    expect(events.map((e) => e.body.type)).toEqual(["context.replace", "context.replace", "context.replace", "context.replace"]);
    expect(new Set(events.map((e) => e.body.data.message_id)).size).toBe(1);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
    const last = events.at(-1)!.body.data;
    expect(last.summary).toMatchObject({ window: 1 });
    expect(things(last.raw_notes.map((n) => n.text).join("\n"))).toEqual([10, 11, 12, 13, 14]);
    expect(last.raw_notes.map((n) => n.window)).toEqual([2]);
    expect(events.map((e) => e.body.data.kind)).toEqual(["raw", "raw", "summary", "raw"]);
    expect(last.text).toMatch(/^Summary: [\s\S]+\n\nRecent activity:\n/);
  });

  it("refuses replace for Intercom, naming the field", async () => {
    const res = await request("/v1/products/p-replace-intercom", {
      method: "PUT",
      headers: auth,
      body: JSON.stringify({ destinations: [{ type: "intercom", access_token: { env: "SLACK_BOT_TOKEN" }, admin_id: "1", delivery: "replace" }] }),
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("delivery");
  });
});
