/**
 * End to end with DESTINATION=slack: ingest → session actor → the Slack Web API emulator (through
 * `vi.spyOn(globalThis, "fetch")`, which reaches the actor), alarms driven by hand. Needs the
 * "workers-slack" bindings (vitest.config.ts): the emulator's token, SLACK_CHANNEL=C0RELAY, K=10,
 * the extractive summariser, a short DESTINATION_TIMEOUT_MS. Posts are paced at one per second per
 * channel for the whole isolate, so each test writes to a channel of its own and waits the pace out.
 */
import { describe, expect, it } from "vitest";
import { BOT_ID, SLACK_TOKEN, useSlackEmulator, type SlackMessage } from "./helpers/slackEmulator";
import { action, auth, getState, makeStepsDue, postActions, request, sessionPath, settle, stubFor, batch, uniqueSession } from "./helpers/api";

const P = "p-slack";
const DEFAULT_CHANNEL = "C0RELAY";

const emulator = useSlackEmulator({}, (e) => e.createChannel({ id: DEFAULT_CHANNEL }));

async function link(session: string, conversationId: string): Promise<void> {
  const res = await request(sessionPath(P, session, "/link"), { method: "PUT", headers: auth, body: JSON.stringify({ conversation_id: conversationId }) });
  expect(res.status).toBe(200);
}

async function ingest(session: string, from: number, count: number, extra: Record<string, unknown> = {}): Promise<void> {
  expect((await postActions(batch(P, session, from, count, extra))).status).toBe(202);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `settle`, then wait out the channel's pace (a held post wakes within a second or two) until nothing is due soon. */
async function drain(session: string, withinMs = 2_500): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await settle(P, session);
    const state = await stubFor(P, session).state();
    const at = state?.next_alarm_at ? Date.parse(state.next_alarm_at) - Date.now() : null;
    if (at === null || at > withinMs) return;
    await sleep(Math.max(at, 0) + 20);
  }
  throw new Error(`session ${session} kept waking`);
}

const isSummary = (m: SlackMessage) => m.text.startsWith("*Session summary*");
const isRaw = (m: SlackMessage) => m.text.startsWith("*Session activity*");
const posts = () => emulator().calls.filter((c) => c.method === "chat.postMessage" && c.outcome === 200 && c.error === null);

describe("Slack destination, end to end", () => {
  it("gives each session its own thread: a header, then raw replies, the summary, and deletes of only the covered replies after it", async () => {
    const channel = emulator().createChannel();
    const [s, t] = [uniqueSession(), uniqueSession()];
    await link(s, channel);
    await link(t, channel);
    for (let i = 0; i < 15; i += 5) {
      await ingest(s, i, 5, { user_id: "u-7" });
      await drain(s);
    }
    await ingest(t, 0, 2);
    await drain(t);

    const threads = emulator().messages(channel);
    expect(threads).toHaveLength(2);
    expect(threads[0]!.text).toContain(`session ${s} \u00b7 user u-7`);
    expect(threads[1]!.text).toContain(`session ${t}`);
    const replies = emulator().replies(channel, threads[0]!.ts);
    expect(replies.map((m) => (isSummary(m) ? "summary" : isRaw(m) ? "raw" : "?"))).toEqual(["summary", "raw"]);
    expect(replies[1]!.text).toContain("User did thing 10");
    expect(replies[1]!.text).not.toContain("User did thing 9");
    expect(emulator().replies(channel, threads[1]!.ts).filter(isRaw)).toHaveLength(1);

    // Summary first: the summary was posted before the first delete, and only the two covered raw replies went.
    const calls = emulator().calls;
    const summaryAt = calls.findIndex((c) => c.method === "chat.postMessage" && String(c.args.text).startsWith("*Session summary*"));
    const deletes = calls.filter((c) => c.method === "chat.delete");
    expect(summaryAt).toBeGreaterThan(0);
    expect(calls.findIndex((c) => c.method === "chat.delete")).toBeGreaterThan(summaryAt);
    expect(deletes).toHaveLength(2);
    expect(posts().filter((c) => String(c.args.text).startsWith("*Session activity*") && c.args.thread_ts === threads[0]!.ts)).toHaveLength(3);

    const { body: state } = await getState(P, s);
    expect(state.counters).toMatchObject({ raw_notes_posted: 3, summary_notes_posted: 1, redactions: 2 });
    expect(state.notes.map((n: { part_id: string }) => n.part_id).sort()).toEqual(replies.map((m) => `${channel}:${m.ts}`).sort());
  });

  it("writes a session without a link into a thread of SLACK_CHANNEL, and a link with a thread into that thread", async () => {
    const s = uniqueSession();
    await ingest(s, 0, 2);
    await drain(s);
    const header = emulator().messages(DEFAULT_CHANNEL).find((m) => m.text.includes(`session ${s}`));
    expect(header).toBeDefined();
    expect(emulator().replies(DEFAULT_CHANNEL, header!.ts)).toHaveLength(1);

    const channel = emulator().createChannel();
    const parent = emulator().addMessage(channel, { text: "Escalation: billing" });
    const u = uniqueSession();
    await link(u, `${channel}:${parent}`);
    await ingest(u, 0, 2);
    await drain(u);
    expect(emulator().messages(channel)).toHaveLength(1); // no header of ours
    expect(emulator().replies(channel, parent).filter(isRaw)).toHaveLength(1);
  });

  it("paces posts at one per second per channel across sessions: the second session's first post waits, as no attempt", async () => {
    const channel = emulator().createChannel();
    const [s, t] = [uniqueSession(), uniqueSession()];
    await link(s, channel);
    await link(t, channel);
    await ingest(s, 0, 1);
    await ingest(t, 0, 1);
    await settle(P, s);
    await settle(P, t);
    expect(emulator().messages(channel)).toHaveLength(1); // s's thread header took the channel's slot
    const { body: waiting } = await getState(P, t);
    expect(waiting.step).toMatchObject({ attempts: 0, parked: false, last_error: "held by slack rate pacer" });
    await drain(s);
    await drain(t);
    expect(emulator().messages(channel)).toHaveLength(2);
    const times = posts().filter((c) => c.args.channel === channel).map((c) => emulator().posted.find((p) => p.message.text === c.args.text)!.message.ts);
    const gaps = times.slice(1).map((ts, i) => Number(ts) - Number(times[i]));
    expect(gaps.every((g) => g >= 0.99)).toBe(true);
  });

  it("escapes <!channel> and friends, so no description pings anyone", async () => {
    const channel = emulator().createChannel();
    const s = uniqueSession();
    await link(s, channel);
    await ingest(s, 0, 0, { actions: [action(0, { description: "Typed <!channel> & <@U0BOSS> <!here>" })] });
    await drain(s);
    const [reply] = emulator().replies(channel, emulator().messages(channel)[0]!.ts);
    expect(reply!.text).toContain("Typed &lt;!channel&gt; &amp; &lt;@U0BOSS&gt; &lt;!here&gt;");
    expect(reply!.text).not.toMatch(/<[!@]/);
  });

  it("reconciles a post that landed but whose answer never came: one reply, not two", async () => {
    const channel = emulator().createChannel();
    const s = uniqueSession();
    await link(s, channel);
    emulator().inject({ kind: "lose_response" }, { method: "chat.postMessage", skip: 1 }); // the header answers, the note's answer is lost
    await ingest(s, 0, 2);
    await drain(s);
    const thread = emulator().messages(channel)[0]!.ts;
    expect(emulator().replies(channel, thread)).toHaveLength(1);

    await makeStepsDue(P, s);
    await drain(s);
    const replies = emulator().replies(channel, thread);
    expect(replies).toHaveLength(1);
    expect(emulator().calls.some((c) => c.method === "conversations.replies")).toBe(true);
    const { body: state } = await getState(P, s);
    expect(state.notes[0]).toMatchObject({ kind: "raw", part_id: `${channel}:${replies[0]!.ts}` });
    expect(state.notes[0].posted_at).not.toBeNull();
  });

  it("parks invalid_auth with a clear error naming SLACK_BOT_TOKEN, without the token", async () => {
    const channel = emulator().createChannel();
    const s = uniqueSession();
    emulator().inject({ kind: "error", code: "invalid_auth" }, { times: 100 });
    await link(s, channel);
    await ingest(s, 0, 3);
    await drain(s);
    const { body: state } = await getState(P, s);
    expect(state.step).toMatchObject({ parked: true });
    expect(state.step.last_error).toMatch(/^slack thread: invalid_auth \u2014 check SLACK_BOT_TOKEN/);
    expect(JSON.stringify(state)).not.toContain(SLACK_TOKEN);
    expect(emulator().messages(channel)).toHaveLength(0);
  });

  it("parks not_in_channel with the channel and what to do", async () => {
    const channel = emulator().createChannel({ member: false });
    const s = uniqueSession();
    await link(s, channel);
    await ingest(s, 0, 1);
    await drain(s);
    const { body: state } = await getState(P, s);
    expect(state.step).toMatchObject({ parked: true });
    expect(state.step.last_error).toBe(`slack thread: not_in_channel \u2014 invite the bot to channel ${channel} (/invite @your-app), or check SLACK_CHANNEL and the session's link`);
  });

  it("waits out a 429 for Retry-After without counting it toward parking, then posts once", async () => {
    const channel = emulator().createChannel();
    const s = uniqueSession();
    await link(s, channel);
    emulator().inject({ kind: "rate_limited", retryAfterSeconds: 1 }, { method: "chat.postMessage", skip: 1 });
    await ingest(s, 0, 2);
    // The header takes the channel's slot; the note waits for the next one, then is answered 429.
    for (let i = 0; i < 40 && !emulator().calls.some((c) => c.outcome === 429); i++) {
      await settle(P, s);
      await sleep(100);
    }
    const { body: waiting } = await getState(P, s);
    expect(waiting.step).toMatchObject({ attempts: 0, parked: false });
    expect(waiting.step.last_error).toMatch(/^slack post: ratelimited \(HTTP 429\)/);

    await sleep(1_100);
    await makeStepsDue(P, s);
    await drain(s);
    const thread = emulator().messages(channel)[0]!.ts;
    expect(emulator().replies(channel, thread).filter((m) => m.bot_id === BOT_ID)).toHaveLength(1);
    expect(emulator().calls.filter((c) => c.outcome === 429)).toHaveLength(1);
  });
});
