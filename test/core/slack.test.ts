import { describe, expect, it } from "vitest";
import { parseDestination, readSlackSettings, type SlackSettings } from "../../src/config";
import { resolveDestination } from "../../src/config/destinationEntry";
import { checkProductSettings } from "../../src/config/product";
import { IntervalPacer } from "../../src/destinations/rateLimit";
import { createSlackDestination } from "../../src/destinations/slack";
import { classifySlack } from "../../src/destinations/slackErrors";
import { escapeMrkdwn, formatSlackNote, markerIn } from "../../src/destinations/slackFormat";
import type { Destination, OutgoingNote, SessionRef } from "../../src/destinations/types";
import { slimActionFromDict } from "../../src/session/model";
import { BOT_ID, SLACK_TOKEN, SlackEmulator, type SlackEmulatorOptions } from "../helpers/slackEmulator";

const T0 = Date.UTC(2026, 0, 31, 9, 5, 0);
const API = "https://slack.test/api";

function setup(options: SlackEmulatorOptions & { pacer?: IntervalPacer; settings?: Partial<SlackSettings> } = {}) {
  const clock = { now: T0 };
  const emulator = new SlackEmulator({ now: () => clock.now, ...options });
  const channel = emulator.createChannel();
  const settings = { ...readSlackSettings({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_CHANNEL: channel, SLACK_API_BASE: API }), ...options.settings };
  const make = (pacer = options.pacer ?? new IntervalPacer()) => createSlackDestination(settings, { fetch: emulator.fetch, now: () => clock.now, timeoutMs: 200 }, { pacer });
  const destination = make();
  return { clock, emulator, channel, destination, make };
}

function rawNote(key: string, descriptions: string[] = ["User clicked Export CSV"]): OutgoingNote {
  const actions = descriptions.map((description, index) =>
    slimActionFromDict({ index, type: "click", description, canonical_url: "/reports/:id", timestamp_start: T0 / 1000 + index }),
  );
  return { key, kind: "raw", text: "", actions, summary: null, window: 1, extractive: false, createdAt: T0 };
}

const summaryNote = (key: string, summary: string): OutgoingNote => ({ key, kind: "summary", text: summary, actions: [], summary, window: 1, extractive: false, createdAt: T0 });

/** Opens the session's thread (as the core does before its first note) and returns the session as linked to it. */
async function threaded(destination: Destination, session: SessionRef): Promise<SessionRef> {
  const opened = await destination.openThread!(session, "e1-t1", false);
  if (opened.kind !== "done") throw new Error(`thread not opened: ${JSON.stringify(opened)}`);
  return { ...session, link: opened.link };
}

const unlinked: SessionRef = { productId: "p", sessionId: "s-1", link: null, userId: "u-42" };

describe("Slack destination against the emulator", () => {
  it("starts a session's thread with a header naming the session, user and time, then posts notes as replies", async () => {
    const { clock, emulator, channel, destination } = setup();
    const session = await threaded(destination, unlinked);
    const [header] = emulator.messages(channel);
    expect(header!.text).toMatch(/^\*Context Relay\* \u2014 session s-1 \u00b7 user u-42 \u2014 2026-01-31 09:05:00 UTC\nctx:e1-t1$/);
    expect(session.link).toBe(`${channel}:${header!.ts}`);

    clock.now += 1_000;
    const posted = await destination.post(session, rawNote("e1-n1"));
    const [reply] = emulator.replies(channel, header!.ts);
    expect(posted).toEqual({ kind: "done", partId: `${channel}:${reply!.ts}` });
    expect(reply!.text).toContain("[1] 09:05:00 \u00b7 User clicked Export CSV \u00b7 /reports/:id");
    expect(reply!.text.endsWith("ctx:e1-n1")).toBe(true);
    expect(emulator.calls.at(-1)!.args).toMatchObject({ channel, thread_ts: header!.ts, unfurl_links: false });
    expect(emulator.messages(channel)).toHaveLength(1); // the note is in the thread, not the channel
  });

  it("writes into the thread a link names, without a header", async () => {
    const { emulator, channel, destination } = setup();
    const parent = emulator.addMessage(channel, { text: "Customer escalation" });
    const opened = await destination.openThread!({ ...unlinked, link: `${channel}:${parent}` }, "e1-t1", false);
    expect(opened).toEqual({ kind: "done", link: `${channel}:${parent}` });
    expect(emulator.calls).toHaveLength(0);
  });

  it("escapes &, < and > so a description can never ping @channel or a user", async () => {
    const { clock, emulator, channel, destination } = setup();
    const session = await threaded(destination, unlinked);
    clock.now += 1_000;
    await destination.post(session, rawNote("e1-n1", ["<!channel> ping <@U123> & <https://evil.example|click>"]));
    const text = emulator.replies(channel, session.link!.split(":")[1]!)[0]!.text;
    expect(text).toContain("&lt;!channel&gt; ping &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt;");
    expect(text).not.toMatch(/<[!@]/);
    expect(escapeMrkdwn("a<b>&c")).toBe("a&lt;b&gt;&amp;c");
  });

  it("waits out a 429 for Retry-After, not counted toward parking, and the shared pace holds meanwhile", async () => {
    const { clock, emulator, destination } = setup();
    const session = await threaded(destination, unlinked);
    clock.now += 1_000;
    emulator.inject({ kind: "rate_limited", retryAfterSeconds: 3 }, { method: "chat.postMessage" });
    const first = await destination.post(session, rawNote("e1-n1"));
    expect(first).toMatchObject({ kind: "retry", retryAfterMs: 3_000, rateLimited: true });
    expect(first).not.toHaveProperty("unknownOutcome");
    clock.now += 2_000;
    const calls = emulator.calls.length;
    expect(await destination.post(session, rawNote("e1-n1"))).toEqual({ kind: "held", until: T0 + 4_000, reason: "slack rate pacer" });
    expect(emulator.calls).toHaveLength(calls); // nothing sent while blocked
    clock.now += 1_000;
    expect(await destination.post(session, rawNote("e1-n1"))).toMatchObject({ kind: "done" });
  });

  it("paces posts at one per second per channel, shared by every session of the isolate", async () => {
    const pacer = new IntervalPacer();
    const { clock, emulator, channel, make } = setup({ pacer });
    const a = make();
    const b = make(); // another session's destination, same token and channel
    const other = emulator.createChannel();
    expect(await a.post({ ...unlinked, link: `${channel}:1.000001` }, rawNote("a-n1"))).toMatchObject({ kind: "done" });
    expect(await b.post({ ...unlinked, link: `${channel}:1.000002` }, rawNote("b-n1"))).toEqual({ kind: "held", until: T0 + 1_000, reason: "slack rate pacer" });
    expect(await b.post({ ...unlinked, link: `${other}:1.000003` }, rawNote("b-n2"))).toMatchObject({ kind: "done" });
    clock.now += 1_000;
    expect(await b.post({ ...unlinked, link: `${channel}:1.000002` }, rawNote("b-n1"))).toMatchObject({ kind: "done" });
  });

  it.each([
    ["invalid_auth", /^slack post: invalid_auth \u2014 check SLACK_BOT_TOKEN/],
    ["token_revoked", /^slack post: token_revoked \u2014 check SLACK_BOT_TOKEN/],
    ["missing_scope", /^slack post: missing_scope \u2014 add the scope to the app of SLACK_BOT_TOKEN and reinstall it \(needs chat:write\)/],
    ["not_in_channel", /^slack post: not_in_channel \u2014 invite the bot to channel C\w+ \(\/invite @your-app\), or check SLACK_CHANNEL/],
    ["channel_not_found", /^slack post: channel_not_found \u2014 channel C\w+ does not exist for this token: check SLACK_CHANNEL/],
    ["is_archived", /^slack post: is_archived \u2014 channel C\w+ is archived: unarchive it, or change SLACK_CHANNEL/],
  ])("parks %s with an error naming the setting to fix, never the token", async (code, message) => {
    const { emulator, channel, destination } = setup();
    emulator.inject({ kind: "error", code, ...(code === "missing_scope" ? { needed: "chat:write" } : {}) });
    const result = await destination.post({ ...unlinked, link: `${channel}:1.000001` }, rawNote("e1-n1"));
    expect(result.kind).toBe("failed");
    expect(result.kind === "failed" && result.error).toMatch(message);
    expect(JSON.stringify(result)).not.toContain(SLACK_TOKEN);
  });

  it("answers as Slack really does: a wrong token, an unknown channel and a channel the bot is not in", async () => {
    const { emulator, destination } = setup();
    const outside = emulator.createChannel({ member: false });
    const archived = emulator.createChannel({ archived: true });
    const post = (d: Destination, link: string) => d.post({ ...unlinked, link }, rawNote("e1-n1"));
    expect(await post(destination, "C0NOPE:1.000001")).toMatchObject({ kind: "failed", error: expect.stringMatching(/^slack post: channel_not_found/) });
    expect(await post(destination, `${outside}:1.000001`)).toMatchObject({ kind: "failed", error: expect.stringMatching(/^slack post: not_in_channel/) });
    expect(await post(destination, `${archived}:1.000001`)).toMatchObject({ kind: "failed", error: expect.stringMatching(/^slack post: is_archived/) });
    expect(emulator.calls.every((c) => c.outcome === 200)).toBe(true); // ok:false bodies with HTTP 200
    const wrong = setup({ settings: { botToken: "xoxb-wrong" } }).destination;
    expect(await post(wrong, `${outside}:1.000001`)).toMatchObject({ kind: "failed", error: expect.stringMatching(/invalid_auth/) });
  });

  it("splits a note Slack calls msg_too_long into marked parts, and redacts every part", async () => {
    const { clock, emulator, channel, destination } = setup({ maxTextChars: 4_000 });
    const session = await threaded(destination, unlinked);
    clock.now += 1_000;
    const long = Array.from({ length: 40 }, (_, i) => `User typed ${"x".repeat(400)} ${i}`);
    const posted = await destination.post(session, rawNote("e1-n1", long));
    const thread = session.link!.split(":")[1]!;
    const parts = emulator.replies(channel, thread);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.text.length <= 4_000)).toBe(true);
    expect(parts.map((p) => markerIn(p.text, "e1-n1"))).toEqual(parts.map((_, i) => ({ part: i + 1, of: parts.length })));
    expect(parts.map((p) => p.text).join("\n")).toContain("User typed");
    expect(posted).toEqual({ kind: "done", partId: `${channel}:${parts.map((p) => p.ts).join(",")}` });
    expect(emulator.calls.filter((c) => c.error === "msg_too_long").length).toBeGreaterThan(0);

    const part = { key: "e1-n1", kind: "raw" as const, partId: (posted as { partId: string }).partId, link: session.link };
    expect(await destination.redact(session, part)).toEqual({ kind: "done" });
    expect(emulator.replies(channel, thread)).toHaveLength(0);
    // Already gone: message_not_found counts as done.
    expect(await destination.redact(session, part)).toEqual({ kind: "done" });
  });

  it("redacts only its own messages: cant_delete_message parks", async () => {
    const { channel, emulator, destination } = setup();
    const theirs = emulator.addMessage(channel, { text: "a person's message" });
    const result = await destination.redact(unlinked, { key: "k", kind: "raw", partId: `${channel}:${theirs}`, link: channel });
    expect(result).toMatchObject({ kind: "failed", error: expect.stringMatching(/cant_delete_message \u2014 the bot may delete only its own messages/) });
  });

  it("reconciles a post that landed but whose answer never came: find reads the thread, no duplicate", async () => {
    const { clock, emulator, channel, destination } = setup();
    const session = await threaded(destination, unlinked);
    clock.now += 1_000;
    emulator.inject({ kind: "lose_response" }, { method: "chat.postMessage" });
    expect(await destination.post(session, rawNote("e1-n1"))).toMatchObject({ kind: "retry", unknownOutcome: true });
    // A person quoting the marker is not our note.
    emulator.addMessage(channel, { text: "what is ctx:e1-n1 ?", thread_ts: session.link!.split(":")[1] });
    const found = await destination.find!(session, rawNote("e1-n1"));
    const ours = emulator.replies(channel, session.link!.split(":")[1]!).filter((m) => m.bot_id === BOT_ID);
    expect(ours).toHaveLength(1);
    expect(found).toEqual({ kind: "done", partId: `${channel}:${ours[0]!.ts}` });
    expect(emulator.calls.at(-1)!.method).toBe("conversations.replies");
    expect(await destination.find!(session, rawNote("e1-n2"))).toEqual({ kind: "done", partId: null });
  });

  it("removes the parts of a split note whose post was cut short, so it goes again whole, once", async () => {
    const { clock, emulator, channel, destination } = setup();
    const session = await threaded(destination, unlinked);
    const thread = session.link!.split(":")[1]!;
    clock.now += 1_000;
    const note = rawNote("e1-n1", Array.from({ length: 60 }, (_, i) => `User typed ${"y".repeat(450)} ${i}`));
    const parts = formatSlackNote(note).length;
    expect(parts).toBeGreaterThan(1);
    // The first part lands, the second's answer is a 503: the outcome is unknown.
    emulator.inject({ kind: "server_error", status: 503 }, { method: "chat.postMessage", skip: 1 });
    expect(await destination.post(session, note)).toMatchObject({ kind: "retry", unknownOutcome: true });
    expect(emulator.replies(channel, thread)).toHaveLength(1);

    expect(await destination.find!(session, note)).toEqual({ kind: "done", partId: null });
    expect(emulator.replies(channel, thread)).toHaveLength(0);
    clock.now += 1_000;
    const posted = await destination.post(session, note);
    const ts = emulator.replies(channel, thread).map((m) => m.ts);
    expect(ts).toHaveLength(parts);
    expect(posted).toEqual({ kind: "done", partId: `${channel}:${ts.join(",")}` });
    expect(await destination.find!(session, note)).toEqual(posted);
  });

  it("finds its thread header after a lost answer instead of starting a second thread", async () => {
    const { emulator, channel, destination } = setup();
    emulator.inject({ kind: "lose_response" }, { method: "chat.postMessage" });
    expect(await destination.openThread!(unlinked, "e1-t1", false)).toMatchObject({ kind: "retry", unknownOutcome: true });
    const again = await destination.openThread!(unlinked, "e1-t1", true);
    const headers = emulator.messages(channel);
    expect(headers).toHaveLength(1);
    expect(again).toEqual({ kind: "done", link: `${channel}:${headers[0]!.ts}` });
  });

  it("needs a link only without SLACK_CHANNEL, and says so", async () => {
    const { destination } = setup({ settings: { channel: null } });
    expect(destination.needsLink).toBe(true);
    expect(await destination.post(unlinked, rawNote("e1-n1"))).toMatchObject({ kind: "failed", error: expect.stringContaining("SLACK_CHANNEL is not set") });
    expect(setup().destination.needsLink).toBe(false);
  });

  it("summaries carry their window, and every message its marker", () => {
    const [text] = formatSlackNote(summaryNote("e1-n9", "User exported a report.\nThen upgraded <b>."));
    expect(text).toBe("*Session summary* \u2014 window 1 \u2014 2026-01-31 09:05:00 UTC\nUser exported a report.\nThen upgraded &lt;b&gt;.\nctx:e1-n9");
    expect(markerIn(text, "e1-n9")).toEqual({ part: 1, of: 1 });
    expect(markerIn(text, "e1-n")).toBeNull();
    expect(markerIn("ctx:e1-n90", "e1-n9")).toBeNull();
  });
});

describe("Slack answers as results", () => {
  const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => ({ kind: "answered" as const, status, headers: new Headers(headers), text: "", json });
  it.each([
    [answer(200, { ok: true, ts: "1.1" }), "post", { kind: "done" }],
    [answer(429, { ok: false, error: "ratelimited" }, { "retry-after": "30" }), "post", { kind: "retry", retryAfterMs: 30_000, rateLimited: true }],
    [answer(429, undefined), "delete", { kind: "retry", retryAfterMs: 1_000, rateLimited: true }],
    [answer(200, { ok: false, error: "internal_error" }), "post", { kind: "retry", unknownOutcome: true }],
    [answer(503, undefined), "post", { kind: "retry", unknownOutcome: true }],
    [answer(503, undefined), "delete", { kind: "retry" }],
    [answer(200, undefined), "post", { kind: "retry", unknownOutcome: true }],
    [answer(404, undefined), "post", { kind: "failed", error: expect.stringContaining("check SLACK_API_BASE") }],
    [answer(302, undefined), "post", { kind: "failed", error: expect.stringContaining("redirects are not followed") }],
    [answer(200, { ok: false, error: "message_not_found" }), "delete", { kind: "done" }],
    [answer(200, { ok: false, error: "message_not_found" }), "update", { kind: "failed", error: "slack update: message_not_found" }],
    [answer(200, { ok: false, error: "no_text" }), "post", { kind: "failed", error: "slack post: no_text" }],
  ] as const)("%o on %s", (a, op, expected) => {
    const result = classifySlack(op, a, "C1", T0);
    expect(result).toMatchObject(expected);
    if (expected.kind === "retry" && !("unknownOutcome" in expected)) expect(result).not.toHaveProperty("unknownOutcome");
  });
});

describe("Slack settings", () => {
  it("reads the token, the default channel and the API base, naming the setting at fault", () => {
    expect(readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1" })).toEqual({ botToken: "xoxb-1", channel: null, apiBase: "https://slack.com/api" });
    expect(() => readSlackSettings({})).toThrow(/DESTINATION=slack needs SLACK_BOT_TOKEN/);
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_CHANNEL: "#support" })).toThrow(/SLACK_CHANNEL must be a channel id/);
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_API_BASE: "http://slack.example" })).toThrow(/SLACK_API_BASE must be an https URL/);
    expect(readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_API_BASE: "https://proxy.example/slack/" }).apiBase).toBe("https://proxy.example/slack");
  });

  it("DELIVERY is append by default, replace where the destination can edit, refused for Intercom", () => {
    expect(readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1" })).not.toHaveProperty("delivery");
    expect(readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1", DELIVERY: "replace" }).delivery).toBe("replace");
    expect(parseDestination({ DESTINATION: "webhook", WEBHOOK_URL: "https://h.test", WEBHOOK_SECRET: "s", DELIVERY: "replace" })).toMatchObject({ delivery: "replace" });
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1", DELIVERY: "edit" })).toThrow('DELIVERY must be one of append, replace, got "edit"');
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: "xoxb-1", DELIVERY: "replace", SUMMARY_MODE: "independent" })).toThrow(/^DELIVERY=replace needs SUMMARY_MODE=rolling/);
    const independent = checkProductSettings({ mode: "independent", destinations: [{ type: "slack", bot_token: { env: "SLACK_BOT_TOKEN" }, delivery: "replace" }] }, { SLACK_BOT_TOKEN: "xoxb-1" });
    expect(independent).toEqual({ field: "destinations[0].delivery", message: expect.stringMatching(/^destinations\[0\]\.delivery: replace needs mode=rolling/) });
    expect(() => parseDestination({ DESTINATION: "intercom", INTERCOM_ACCESS_TOKEN: "t", INTERCOM_ADMIN_ID: "1", DELIVERY: "replace" })).toThrow(
      "DELIVERY=replace needs a destination that can edit (slack, webhook): Intercom cannot edit a note",
    );
  });

  it("a product entry names the token by secret and its errors by field", () => {
    const vars = { SLACK_BOT_TOKEN: "", SLACK_TOKEN_ACME: "xoxb-acme" } as Record<string, string>;
    expect(resolveDestination({ type: "slack", bot_token: { env: "SLACK_TOKEN_ACME" }, channel: "C0ACME" }, vars)).toMatchObject({ kind: "slack", botToken: "xoxb-acme", channel: "C0ACME" });
    const broken = resolveDestination({ type: "slack", bot_token: { env: "SLACK_TOKEN_ACME" }, channel: "#acme" }, vars, "destinations[1]");
    expect(broken).toMatchObject({ message: expect.stringMatching(/^destinations\[1\]\.channel must be a channel id/) });
  });
});
