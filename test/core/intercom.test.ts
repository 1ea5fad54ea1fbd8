import { describe, expect, it } from "vitest";
import { readIntercomSettings, type IntercomSettings } from "../../src/config";
import { createIntercomDestination } from "../../src/destinations/intercom";
import { classifyError } from "../../src/destinations/intercomErrors";
import { bodyHasMarker, formatNoteHtml } from "../../src/destinations/intercomFormat";
import { pickPostedPart } from "../../src/destinations/intercomParts";
import { paceKey, TokenPacer } from "../../src/destinations/rateLimit";
import type { OutgoingNote, SessionRef } from "../../src/destinations/types";
import { slimActionFromDict } from "../../src/session/model";
import { EMULATOR_ADMIN_ID, EMULATOR_TOKEN, IntercomEmulator, type EmulatorOptions } from "../helpers/intercomEmulator";

const T0 = Date.UTC(2026, 0, 31, 9, 5, 0);

function setup(options: EmulatorOptions & { timeoutMs?: number; settings?: Partial<IntercomSettings> } = {}) {
  const clock = { now: T0 };
  const emulator = new IntercomEmulator({ now: () => clock.now, ...options });
  const conversation = emulator.createConversation();
  const settings = readIntercomSettings({ INTERCOM_ACCESS_TOKEN: EMULATOR_TOKEN, INTERCOM_ADMIN_ID: EMULATOR_ADMIN_ID });
  const destination = createIntercomDestination(
    { ...settings, ...options.settings },
    { fetch: emulator.fetch, now: () => clock.now, timeoutMs: options.timeoutMs ?? 1_000 },
    { pacer: new TokenPacer() },
  );
  const session: SessionRef = { productId: "p", sessionId: "s-1", link: conversation };
  return { clock, emulator, conversation, destination, session };
}

function rawNote(key: string, descriptions: string[] = ["User clicked Export CSV"]): OutgoingNote {
  const actions = descriptions.map((description, index) =>
    slimActionFromDict({ index, type: "click", description, canonical_url: "/reports/:id", timestamp_start: T0 / 1000 + index }),
  );
  return { key, kind: "raw", text: "", actions, summary: null, window: 0, extractive: false, createdAt: T0 };
}

function summaryNote(key: string, summary: string, extractive = false): OutgoingNote {
  return { key, kind: "summary", text: summary, actions: [], summary, window: 0, extractive, createdAt: T0 };
}

describe("Intercom destination against the emulator", () => {
  it("posts an admin note and finds its part by author and marker, not by position", async () => {
    const { emulator, conversation, destination, session } = setup();
    // A teammate's note (quoting our marker) and another note by our admin land after ours in the same second.
    emulator.appendOnNextReply(
      { part_type: "note", body: "<p>ctx:n1-aaaa looks odd</p>", author: { id: "42", type: "admin", name: "T", email: "t@x" } },
      { part_type: "note", body: "<p>ctx:n1-bbbb</p>", author: { id: EMULATOR_ADMIN_ID, type: "admin", name: "R", email: "r@x" } },
    );
    const result = await destination.post(session, rawNote("n1-aaaa"));
    const notes = emulator.notes(conversation);
    expect(notes).toHaveLength(3);
    expect(result).toEqual({ kind: "done", partId: notes[0]!.id });
    const call = emulator.calls.at(-1)!;
    expect(call).toMatchObject({ method: "POST", path: `/conversations/${conversation}/reply`, version: "2.14" });
    expect(call.body).toMatchObject({ message_type: "note", type: "admin", admin_id: EMULATOR_ADMIN_ID });
    expect(await destination.find!(session, rawNote("n1-aaaa"))).toEqual({ kind: "done", partId: notes[0]!.id });
  });

  it("picks the marked note among newer notes by the same admin in the answer", () => {
    const part = (id: string, body: string, created_at: number) => ({ id, part_type: "note", body, created_at, author: { id: "7", type: "admin" } });
    const conversation = { conversation_parts: { conversation_parts: [part("9", "<p>ctx:k-1</p>", 5), part("10", "<p>ctx:k-10</p>", 6), part("8", "x", 7)] } };
    expect(pickPostedPart(conversation, "7", "k-1")).toBe("9");
    expect(pickPostedPart(conversation, "7", "k-2")).toBeNull();
    expect(pickPostedPart({ conversation_parts: { conversation_parts: [part("3", "<p>sanitised</p>", 1)] } }, "7", "k-2")).toBe("3");
  });

  it("identifies the part when the reply answers with the new part only (the spec example's shape)", async () => {
    const { emulator, conversation, destination, session } = setup({ replyReturns: "new_part" });
    const result = await destination.post(session, rawNote("n2-bbbb"));
    expect(result).toEqual({ kind: "done", partId: emulator.notes(conversation)[0]!.id });
  });

  it("waits until X-RateLimit-Reset after a 429, then posts", async () => {
    const { clock, emulator, conversation, destination, session } = setup();
    emulator.inject({ kind: "rate_limited", resetInSeconds: 7 });
    const first = await destination.post(session, rawNote("n3-cccc"));
    expect(first).toMatchObject({ kind: "retry", retryAfterMs: 7_000 });
    expect(first).not.toHaveProperty("unknownOutcome");
    expect(first.kind === "retry" && first.error).toMatch(/intercom 429 rate_limit_exceeded/);

    // Before the reset the shared pace holds the request back without calling Intercom.
    clock.now += 3_000;
    const calls = emulator.calls.length;
    expect(await destination.post(session, rawNote("n3-cccc"))).toEqual({ kind: "held", until: T0 + 7_000, reason: "intercom rate pacer" });
    expect(emulator.calls.length).toBe(calls);

    clock.now += 4_000;
    expect(await destination.post(session, rawNote("n3-cccc"))).toMatchObject({ kind: "done" });
    expect(emulator.notes(conversation)).toHaveLength(1);
  });

  it("paces from X-RateLimit-Remaining: stops at the reserve instead of spending the window", async () => {
    const { clock, emulator, destination, session } = setup({ limitPerWindow: 3 });
    for (const key of ["r-1", "r-2", "r-3"]) expect(await destination.post(session, rawNote(key))).toMatchObject({ kind: "done" });
    const paced = await destination.post(session, rawNote("r-4"));
    expect(paced).toMatchObject({ kind: "held", reason: "intercom rate pacer" });
    expect(emulator.calls.filter((c) => c.outcome === 429)).toHaveLength(0);
    clock.now = paced.kind === "held" ? paced.until : clock.now;
    expect(await destination.post(session, rawNote("r-4"))).toMatchObject({ kind: "done" });
  });

  it("reconciles a post that landed but timed out: unknown outcome, then find returns the same part", async () => {
    const { emulator, conversation, destination, session } = setup({ timeoutMs: 50 });
    const note = rawNote("n4-dddd");
    emulator.inject({ kind: "lose_response" }, { path: "/reply" });
    const first = await destination.post(session, note);
    expect(first).toMatchObject({ kind: "retry", unknownOutcome: true });
    expect(emulator.notes(conversation)).toHaveLength(1);

    const found = await destination.find!(session, note);
    expect(found).toEqual({ kind: "done", partId: emulator.notes(conversation)[0]!.id });
    expect(emulator.notes(conversation)).toHaveLength(1);
  });

  it("says absent when a timed-out post never landed, so the core re-posts once", async () => {
    const { emulator, conversation, destination, session } = setup({ timeoutMs: 50 });
    const note = rawNote("n5-eeee");
    emulator.inject({ kind: "hang" }, { path: "/reply" });
    expect(await destination.post(session, note)).toMatchObject({ kind: "retry", unknownOutcome: true });
    expect(await destination.find!(session, note)).toEqual({ kind: "done", partId: null });
    expect(await destination.post(session, note)).toMatchObject({ kind: "done" });
    expect(emulator.notes(conversation)).toHaveLength(1);
  });

  it("treats a network error and a 5xx on a post as unknown outcomes, and a 5xx on redact as a plain retry", async () => {
    const { emulator, destination, session } = setup();
    emulator.inject({ kind: "network_error" });
    expect(await destination.post(session, rawNote("n6-1"))).toMatchObject({ kind: "retry", unknownOutcome: true });
    emulator.inject({ kind: "server_error", status: 502 });
    expect(await destination.post(session, rawNote("n6-1"))).toMatchObject({ kind: "retry", unknownOutcome: true, error: expect.stringMatching(/^intercom 502/) });
    emulator.inject({ kind: "server_error", status: 503 });
    const redact = await destination.redact(session, { key: "n6-1", kind: "raw", partId: "1", link: session.link });
    expect(redact).toMatchObject({ kind: "retry" });
    expect(redact).not.toHaveProperty("unknownOutcome");
  });

  it("redacts a posted part, and counts redacting it again as done", async () => {
    const { emulator, conversation, destination, session } = setup();
    const posted = await destination.post(session, rawNote("n7-ffff"));
    if (posted.kind !== "done") throw new Error("post failed");
    const part = { key: "n7-ffff", kind: "raw" as const, partId: posted.partId, link: conversation };
    expect(await destination.redact(session, part)).toEqual({ kind: "done" });
    expect(emulator.notes(conversation)[0]).toMatchObject({ redacted: true, body: "<p><i>This message was deleted</i></p>" });
    expect(await destination.redact(session, part)).toEqual({ kind: "done" });
    expect(emulator.calls.at(-1)!.outcome).toBe(400);
  });

  it("counts redacting a part or conversation that is gone (404) as done", async () => {
    const { emulator, destination, session } = setup();
    expect(await destination.redact(session, { key: "k", kind: "raw", partId: "999999", link: session.link })).toEqual({ kind: "done" });
    expect(await destination.redact(session, { key: "k", kind: "raw", partId: "1", link: "424242" })).toEqual({ kind: "done" });
    expect(emulator.calls.map((c) => c.outcome)).toEqual([404, 404]);
  });

  it("redacts in the conversation the note was posted to, even after a relink", async () => {
    const { emulator, conversation, destination, session } = setup();
    const posted = await destination.post(session, rawNote("n8-1"));
    if (posted.kind !== "done") throw new Error("post failed");
    const other = emulator.createConversation();
    const relinked = { ...session, link: other };
    expect(await destination.redact(relinked, { key: "n8-1", kind: "raw", partId: posted.partId, link: conversation })).toEqual({ kind: "done" });
    expect(emulator.calls.at(-1)!.body).toMatchObject({ conversation_id: conversation, conversation_part_id: posted.partId });
  });

  it("fails for good on 401 with a clear message that names the setting and not the token", async () => {
    const { emulator, destination, session } = setup();
    emulator.inject({ kind: "unauthorized" });
    const result = await destination.post(session, rawNote("n9-1"));
    expect(result.kind).toBe("failed");
    const error = result.kind === "failed" ? result.error : "";
    expect(error).toMatch(/^intercom 401 unauthorized: Access Token Invalid \u2014 check INTERCOM_ACCESS_TOKEN/);
    expect(error).not.toContain(EMULATOR_TOKEN);
  });

  it("fails with a wrong token, and names INTERCOM_ADMIN_ID for an unknown admin", async () => {
    const wrongToken = setup({ settings: { accessToken: "nope" } });
    expect(await wrongToken.destination.post(wrongToken.session, rawNote("a"))).toMatchObject({ kind: "failed", error: expect.stringMatching(/401/) });
    const wrongAdmin = setup({ settings: { adminId: "1" } });
    expect(await wrongAdmin.destination.post(wrongAdmin.session, rawNote("a"))).toMatchObject({
      kind: "failed",
      error: expect.stringMatching(/^intercom 404 admin_not_found: Admin not found \u2014 check INTERCOM_ADMIN_ID/),
    });
  });

  it("fails a post to an unknown conversation, and finds nothing there", async () => {
    const { destination, session } = setup();
    const gone = { ...session, link: "31337" };
    expect(await destination.post(gone, rawNote("a"))).toMatchObject({ kind: "failed", error: expect.stringMatching(/conversation 31337 not found/) });
    expect(await destination.find!(gone, rawNote("a"))).toEqual({ kind: "done", partId: null });
  });

  it("escapes HTML from action descriptions and summaries", async () => {
    const { emulator, conversation, destination, session } = setup();
    await destination.post(session, rawNote("n10-1", ['Typed <img src=x onerror=alert(1)> & "quotes"']));
    await destination.post(session, summaryNote("n10-2", "User pasted <script>x()</script>"));
    const [raw, summary] = emulator.notes(conversation).map((p) => p.body!);
    expect(raw).toContain("Typed &lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;");
    expect(raw).not.toContain("<img");
    expect(summary).toContain("User pasted &lt;script&gt;x()&lt;/script&gt;");
    expect(summary).not.toContain("<script>");
  });
});

describe("Intercom note bodies", () => {
  const session: SessionRef = { productId: "p", sessionId: "ps_<abc>", link: "1" };

  it("has a header with the session and UTC time, one line per action, and the marker last", () => {
    const html = formatNoteHtml(session, rawNote("n1-3f9a", ["Opened dashboard", "Clicked Export"]));
    expect(html).toBe(
      "<p><b>Session activity</b> \u2014 session ps_&lt;abc&gt; \u2014 2026-01-31 09:05:00 UTC \u2014 2 actions</p>" +
        "<p>[1] 09:05:00 \u00b7 Opened dashboard \u00b7 /reports/:id</p>" +
        "<p>[2] 09:05:01 \u00b7 Clicked Export \u00b7 /reports/:id</p>" +
        "<p>ctx:n1-3f9a</p>",
    );
  });

  it("marks summaries, and says when the summary is extractive", () => {
    const llm = formatNoteHtml(session, summaryNote("s1", "Line one\nLine two"));
    expect(llm).toMatch(/^<p><b>Session summary<\/b> \u2014 session ps_&lt;abc&gt; \u2014 2026-01-31 09:05:00 UTC \u2014 window 0<\/p><p>Line one<\/p><p>Line two<\/p><p>ctx:s1<\/p>$/);
    expect(formatNoteHtml(session, summaryNote("s2", "x", true))).toContain("<i>Extractive summary");
    expect(llm).not.toContain("Extractive");
  });

  it("clips very long descriptions in a note line", () => {
    const html = formatNoteHtml(session, rawNote("k", ["x".repeat(2_000)]));
    expect(html).toContain(`${"x".repeat(500)}\u2026`);
    expect(html).not.toContain("x".repeat(501));
  });

  it("matches a marker only as a whole key", () => {
    expect(bodyHasMarker("<p>ctx:n7-3f9a</p>", "n7-3f9a")).toBe(true);
    expect(bodyHasMarker("<p>ctx:n7-3f9ab</p>", "n7-3f9a")).toBe(false);
    expect(bodyHasMarker("<p>xctx:n7-3f9a</p>", "n7-3f9a")).toBe(false);
    expect(bodyHasMarker(null, "n7-3f9a")).toBe(false);
  });
});

describe("Intercom settings and error classes", () => {
  it("requires the token and the admin id, with messages that name them", () => {
    expect(() => readIntercomSettings({ INTERCOM_ADMIN_ID: "1" })).toThrow(/INTERCOM_ACCESS_TOKEN/);
    expect(() => readIntercomSettings({ INTERCOM_ACCESS_TOKEN: "t" })).toThrow(/INTERCOM_ADMIN_ID/);
    expect(() => readIntercomSettings({ INTERCOM_ACCESS_TOKEN: "t", INTERCOM_ADMIN_ID: "bob" })).toThrow(/numeric/);
  });

  it("defaults to the US host and version 2.14, and knows the EU and AU hosts", () => {
    const base = { INTERCOM_ACCESS_TOKEN: "t", INTERCOM_ADMIN_ID: "1" };
    expect(readIntercomSettings(base)).toMatchObject({ apiBase: "https://api.intercom.io", version: "2.14" });
    expect(readIntercomSettings({ ...base, INTERCOM_API_BASE: "eu" }).apiBase).toBe("https://api.eu.intercom.io");
    expect(readIntercomSettings({ ...base, INTERCOM_API_BASE: "https://api.au.intercom.io/" }).apiBase).toBe("https://api.au.intercom.io");
    expect(readIntercomSettings({ ...base, INTERCOM_VERSION: "2.16" }).version).toBe("2.16");
    expect(() => readIntercomSettings({ ...base, INTERCOM_API_BASE: "http://api.intercom.io" })).toThrow(/https/);
  });

  it.each([
    ["post", 401, "failed"],
    ["post", 403, "failed"],
    ["post", 404, "failed"],
    ["post", 400, "failed"],
    ["post", 500, "retry"],
    ["post", 409, "retry"],
    ["redact", 404, "done"],
    ["redact", 500, "retry"],
    ["redact", 401, "failed"],
    ["find", 503, "retry"],
  ] as const)("%s answered %i is %s", (op, status, kind) => {
    expect(classifyError(op, status, { type: "error.list", errors: [{ code: "x" }] }, "1").kind).toBe(kind);
  });

  it("treats conversation_part_not_redactable as done only when redacting", () => {
    const body = { type: "error.list", errors: [{ code: "conversation_part_not_redactable", message: "Part can't be redacted" }] };
    expect(classifyError("redact", 400, body, "1")).toEqual({ kind: "done" });
    expect(classifyError("post", 400, body, "1").kind).toBe("failed");
  });
});

describe("the shared workspace pace", () => {
  const headers = (remaining: number, resetSeconds: number, limit = 100) =>
    new Headers({ "x-ratelimit-limit": String(limit), "x-ratelimit-remaining": String(remaining), "x-ratelimit-reset": String(resetSeconds) });

  it("goes while above the reserve, counts down locally, and holds at the reserve until the reset", () => {
    const pacer = new TokenPacer();
    pacer.observe("k", headers(7, 110));
    const decisions = Array.from({ length: 3 }, () => pacer.acquire("k", 100_000).kind);
    expect(decisions).toEqual(["go", "go", "wait"]); // reserve of 100 is 5: 7 → 6 → 5 holds
    expect(pacer.acquire("k", 100_000)).toMatchObject({ kind: "wait", untilMs: 110_000 });
    expect(pacer.acquire("k", 110_000)).toEqual({ kind: "go" });
  });

  it("keeps the lowest count within a window and ignores answers from an older window", () => {
    const pacer = new TokenPacer();
    pacer.observe("k", headers(50, 110));
    pacer.observe("k", headers(4, 110));
    pacer.observe("k", headers(90, 110));
    expect(pacer.acquire("k", 100_000).kind).toBe("wait");
    pacer.observe("k", headers(99, 100));
    expect(pacer.acquire("k", 100_000).kind).toBe("wait");
    pacer.observe("k", headers(99, 120));
    expect(pacer.acquire("k", 100_000).kind).toBe("go");
  });

  it("lets a 429 replace what was known until its own reset", () => {
    const pacer = new TokenPacer();
    pacer.observe("k", headers(0, 200));
    pacer.block("k", 101_000);
    expect(pacer.acquire("k", 100_500)).toMatchObject({ kind: "wait", untilMs: 101_000 });
    expect(pacer.acquire("k", 101_000)).toEqual({ kind: "go" });
  });

  it("keys the pace by host and token without containing the token", () => {
    const key = paceKey("https://api.intercom.io", "secret-token");
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(key).not.toContain("secret");
    expect(paceKey("https://api.eu.intercom.io", "secret-token")).not.toBe(key);
    expect(paceKey("https://api.intercom.io", "secret-token")).toBe(key);
  });
});
