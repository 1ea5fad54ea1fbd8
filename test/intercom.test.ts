/**
 * End to end with DESTINATION=intercom: ingest → session actor → the Intercom emulator (through
 * `vi.spyOn(globalThis, "fetch")`, which reaches the actor), alarms driven by hand.
 * Needs the "workers-intercom" bindings (see vitest.config.ts): DESTINATION=intercom, the emulator's
 * token and admin id, SUMMARY_THRESHOLD=10, a short DESTINATION_TIMEOUT_MS.
 */
import { describe, expect, it } from "vitest";
import { EMULATOR_TOKEN, useIntercomEmulator } from "./helpers/intercomEmulator";
import { action, auth, batch, getState, makeStepsDue, postActions, request, sessionPath, settle, uniqueSession } from "./helpers/api";

const P = "p-intercom";

const emulator = useIntercomEmulator();

async function link(session: string, conversationId: string): Promise<void> {
  const res = await request(sessionPath(P, session, "/link"), {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ conversation_id: conversationId }),
  });
  expect(res.status).toBe(200);
}

async function ingest(session: string, from: number, count: number, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await postActions(batch(P, session, from, count, extra));
  expect(res.status).toBe(202);
}

const isSummary = (body: string | null) => (body ?? "").includes("<b>Session summary</b>");
const isRaw = (body: string | null) => (body ?? "").includes("<b>Session activity</b>");

describe("Intercom destination, end to end", () => {
  it("posts the summary note before redacting any raw note it covers", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    await link(s, conversation);
    for (let i = 0; i < 15; i += 5) {
      await ingest(s, i, 5);
      await settle(P, s);
    }

    const posts = emulator().calls.filter((c) => c.path.endsWith("/reply"));
    const redactions = emulator().calls.filter((c) => c.path === "/conversations/redact");
    const bodyOf = (c: (typeof posts)[number]) => (c.body as { body: string }).body;
    const firstSummary = emulator().calls.findIndex((c) => c.path.endsWith("/reply") && isSummary(bodyOf(c)));
    const firstRedaction = emulator().calls.findIndex((c) => c.path === "/conversations/redact");
    expect(posts.filter((c) => isRaw(bodyOf(c)))).toHaveLength(3);
    expect(firstSummary).toBeGreaterThanOrEqual(0);
    expect(redactions).toHaveLength(2);
    expect(firstRedaction).toBeGreaterThan(firstSummary);

    const notes = emulator().notes(conversation);
    expect(notes.filter((n) => n.redacted)).toHaveLength(2);
    expect(notes.filter((n) => isSummary(n.body) && !n.redacted)).toHaveLength(1);
    expect(notes.filter((n) => isRaw(n.body) && !n.redacted)).toHaveLength(1);

    const { body: state } = await getState(P, s);
    const posted = state.notes.filter((n: { posted_at: string | null }) => n.posted_at !== null);
    expect(posted.map((n: { part_id: string }) => n.part_id).sort()).toEqual(
      notes.filter((n) => !n.redacted).map((n) => n.id).sort(),
    );
  });

  it("parks a 401 with a clear error in the state endpoint, without the token", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    emulator().inject({ kind: "unauthorized" }, { times: 100 });
    await link(s, conversation);
    await ingest(s, 0, 3);
    await settle(P, s);

    const { body: state } = await getState(P, s);
    expect(state.step).toMatchObject({ parked: true });
    expect(state.step.last_error).toMatch(/^intercom 401 unauthorized: Access Token Invalid \u2014 check INTERCOM_ACCESS_TOKEN/);
    expect(state.step.last_error).not.toContain(EMULATOR_TOKEN);
    expect(emulator().notes(conversation)).toHaveLength(0);
  });

  it("a link that arrives after 30 actions gives one note: the summary covering them all", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    for (let i = 0; i < 30; i += 10) {
      await ingest(s, i, 10);
      await settle(P, s);
    }
    expect(emulator().calls.filter((c) => c.path.endsWith("/reply"))).toHaveLength(0);

    await link(s, conversation);
    await settle(P, s);

    // The three windows were summarised while unlinked; the rolling summary covers all 30 actions,
    // so nothing is sent raw only to be redacted again.
    const replies = emulator().calls.filter((c) => c.path.endsWith("/reply")).map((c) => (c.body as { body: string }).body);
    expect(replies).toHaveLength(1);
    expect(isSummary(replies[0]!)).toBe(true);
    expect(replies[0]).toContain("User did thing 29");
    const { body: state } = await getState(P, s);
    expect(state.counters).toMatchObject({ raw_notes_posted: 0, summary_notes_posted: 1, redactions: 0 });
    expect(state.notes.map((n: { kind: string }) => n.kind)).toEqual(["summary"]);
  });

  it("a batch that brings the link after 30 actions sends itself raw and the earlier windows only as their summary", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    for (let i = 0; i < 30; i += 10) {
      await ingest(s, i, 10);
      await settle(P, s);
    }
    await ingest(s, 30, 2, { conversation_id: conversation });
    await settle(P, s);
    const replies = emulator().calls.filter((c) => c.path.endsWith("/reply")).map((c) => (c.body as { body: string }).body);
    expect(replies.map((r) => (isSummary(r) ? "summary" : "raw"))).toEqual(["raw", "summary"]);
    expect(replies[0]).not.toContain("User did thing 29");
    expect(replies[0]).toContain("User did thing 31");
    expect(replies[1]).toContain("User did thing 29");
  });

  it("actions held in the open window go out as one raw note when the link arrives", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    await ingest(s, 0, 4);
    await ingest(s, 4, 3);
    await settle(P, s);
    await link(s, conversation);
    await settle(P, s);
    const replies = emulator().calls.filter((c) => c.path.endsWith("/reply")).map((c) => (c.body as { body: string }).body);
    expect(replies).toHaveLength(1);
    expect(isRaw(replies[0]!)).toBe(true);
    expect(replies[0]).toContain("User did thing 0");
    expect(replies[0]).toContain("User did thing 6");
  });

  it("reconciles a post that landed but whose answer never came: one note, not two", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    emulator().inject({ kind: "lose_response" }, { path: "/reply" });
    await link(s, conversation);
    await ingest(s, 0, 2);
    await settle(P, s);
    expect(emulator().notes(conversation)).toHaveLength(1);

    await makeStepsDue(P, s);
    await settle(P, s);
    const notes = emulator().notes(conversation);
    expect(notes).toHaveLength(1);
    expect(emulator().calls.some((c) => c.method === "GET" && c.path === `/conversations/${conversation}`)).toBe(true);
    const { body: state } = await getState(P, s);
    expect(state.notes[0]).toMatchObject({ kind: "raw", part_id: notes[0]!.id });
    expect(state.notes[0].posted_at).not.toBeNull();
  });

  it("escapes HTML in an action's description", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    await link(s, conversation);
    const hostile = action(0, { description: 'Typed <img src=x onerror=alert(1)> & "hi"' });
    await ingest(s, 0, 0, { actions: [hostile] });
    await settle(P, s);

    const [note] = emulator().notes(conversation);
    expect(note!.body).toContain("Typed &lt;img src=x onerror=alert(1)&gt; &amp; &quot;hi&quot;");
    expect(note!.body).not.toContain("<img");
  });

  // Last in the file: the 429 blocks the token's shared pace in this isolate until its reset.
  it("waits out a 429 until X-RateLimit-Reset, then posts once", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    emulator().inject({ kind: "rate_limited", resetInSeconds: 1 }, { path: "/reply" });
    await link(s, conversation);
    await ingest(s, 0, 2);
    await settle(P, s);
    const { body: waiting } = await getState(P, s);
    expect(waiting.step).toMatchObject({ attempts: 0, parked: false }); // being paced does not count toward parking
    expect(waiting.step.last_error).toMatch(/^intercom 429 rate_limit_exceeded/);
    expect(emulator().notes(conversation)).toHaveLength(0);

    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the shared pace holds until the real reset
    await makeStepsDue(P, s);
    await settle(P, s);
    expect(emulator().notes(conversation)).toHaveLength(1);
    expect(emulator().calls.filter((c) => c.outcome === 429)).toHaveLength(1);
  });
});
