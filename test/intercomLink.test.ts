/**
 * The browser-facing link call through the real Worker (routes, onError, the actor's `link` RPC), with
 * DESTINATION=intercom: held actions go out as one note once the snippet's call arrives, and a relink
 * (with the API token) sends later notes to the new conversation while earlier ones are redacted where they
 * were posted. The publishable key may only set a first link, and a session it creates without events expires.
 * Needs the "workers-intercom" bindings: PUBLISHABLE_KEYS={"p-intercom":"pk_test_intercom"} and
 * LINK_ALLOWED_ORIGINS=https://app.example.com.
 */
import { describe, expect, it } from "vitest";
import { useIntercomEmulator } from "./helpers/intercomEmulator";
import { runDurableObjectAlarm } from "cloudflare:test";
import { auth, batch, getState, postActions, request, sessionPath, settle, sqlRows, stubFor, uniqueSession } from "./helpers/api";

const P = "p-intercom";
const ORIGIN = "https://app.example.com";
const emulator = useIntercomEmulator();

function linkFromBrowser(session: string, conversationId: string, key = "pk_test_intercom"): Promise<Response> {
  return request("/sessions/link", {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, "x-publishable-key": key },
    body: JSON.stringify({ product_id: P, session_id: session, conversation_id: conversationId }),
  });
}

function relinkWithToken(session: string, conversationId: string): Promise<Response> {
  return request(sessionPath(P, session, "/link"), { method: "PUT", headers: auth, body: JSON.stringify({ conversation_id: conversationId }) });
}

describe("POST /sessions/link through the Worker", () => {
  it("links with the publishable key and writes the held actions as one note", async () => {
    const s = uniqueSession();
    const conversation = emulator().createConversation();
    expect((await postActions(batch(P, s, 0, 4))).status).toBe(202);
    await settle(P, s);

    const res = await linkFromBrowser(s, conversation);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(await res.json()).toMatchObject({ conversation_id: conversation, changed: true });
    await settle(P, s);

    expect(emulator().notes(conversation)).toHaveLength(1);
    expect(emulator().notes(conversation)[0]!.body).toContain("4 actions");
    const { body: state } = await getState(P, s);
    expect(state.link).toMatchObject({ conversation_id: conversation });
  });

  it("refuses a wrong key and changes nothing", async () => {
    const s = uniqueSession();
    const res = await linkFromBrowser(s, emulator().createConversation(), "pk_wrong");
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(emulator().calls).toHaveLength(0);
  });

  it("after a relink, sends new notes to the new conversation and redacts old ones where they were posted", async () => {
    const s = uniqueSession();
    const first = emulator().createConversation();
    const second = emulator().createConversation();
    expect((await linkFromBrowser(s, first)).status).toBe(200);
    expect((await postActions(batch(P, s, 0, 5))).status).toBe(202);
    await settle(P, s);
    expect(emulator().notes(first)).toHaveLength(1);

    expect(await (await relinkWithToken(s, second)).json()).toMatchObject({ changed: true });
    expect((await postActions(batch(P, s, 5, 5))).status).toBe(202);
    await settle(P, s);

    // The window of 10 closed: its summary went to the new conversation, then both raw notes were redacted
    // in the conversations they were posted to.
    expect(emulator().notes(first).map((n) => n.redacted)).toEqual([true]);
    const secondNotes = emulator().notes(second);
    expect(secondNotes.some((n) => (n.body ?? "").includes("<b>Session summary</b>"))).toBe(true);
    expect(secondNotes.filter((n) => n.redacted)).toHaveLength(1);
  });

  it("sets a first link before any event, but never moves a link: 409 already_linked, and only the API token relinks", async () => {
    const s = uniqueSession();
    const first = emulator().createConversation();
    const other = emulator().createConversation();
    expect(await (await linkFromBrowser(s, first)).json()).toMatchObject({ conversation_id: first, changed: true });
    expect(await (await linkFromBrowser(s, first)).json()).toMatchObject({ conversation_id: first, changed: false });

    const moved = await linkFromBrowser(s, other);
    expect(moved.status).toBe(409);
    const { error } = (await moved.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("already_linked");
    expect(error.message).not.toContain(first);
    expect((await getState(P, s)).body.link).toMatchObject({ conversation_id: first });

    expect((await relinkWithToken(s, other)).status).toBe(200);
    expect((await getState(P, s)).body.link).toMatchObject({ conversation_id: other });
  });

  it("refuses to move a link the server set from an event's conversation_id", async () => {
    const s = uniqueSession();
    const server = emulator().createConversation();
    expect((await postActions(batch(P, s, 0, 2, { conversation_id: server }))).status).toBe(202);
    expect((await linkFromBrowser(s, emulator().createConversation())).status).toBe(409);
    expect((await getState(P, s)).body.link).toMatchObject({ conversation_id: server });
  });

  it("erases a session that only ever received a link within 24 hours, and keeps one that received events", async () => {
    const linkOnly = uniqueSession();
    const withEvents = uniqueSession();
    for (const s of [linkOnly, withEvents]) expect((await linkFromBrowser(s, emulator().createConversation())).status).toBe(200);
    expect((await postActions(batch(P, withEvents, 0, 2))).status).toBe(202);
    await settle(P, withEvents);

    // A day (and a moment) later: move both sessions' clocks back, as if they were created a day ago.
    const dayAgo = Date.now() - 24 * 3_600_000 - 1_000;
    for (const s of [linkOnly, withEvents]) {
      await sqlRows(P, s, `UPDATE session SET created_at = ${dayAgo}, last_action_at = ${dayAgo}`);
      await runDurableObjectAlarm(stubFor(P, s));
    }
    expect((await getState(P, linkOnly)).status).toBe(404);
    expect((await getState(P, withEvents)).status).toBe(200);
  });
});
