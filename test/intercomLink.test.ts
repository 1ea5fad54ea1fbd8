/**
 * The browser-facing link call through the real Worker (routes, onError, the actor's `link` RPC), with
 * DESTINATION=intercom: held actions go out as one note once the snippet's call arrives, and a relink
 * sends later notes to the new conversation while earlier ones are redacted where they were posted.
 * Needs the "workers-intercom" bindings: PUBLISHABLE_KEYS={"p-intercom":"pk_test_intercom"} and
 * LINK_ALLOWED_ORIGINS=https://app.example.com.
 */
import { describe, expect, it } from "vitest";
import { useIntercomEmulator } from "./helpers/intercomEmulator";
import { batch, getState, postActions, request, settle, uniqueSession } from "./helpers/api";

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

    expect(await (await linkFromBrowser(s, second)).json()).toMatchObject({ changed: true });
    expect((await postActions(batch(P, s, 5, 5))).status).toBe(202);
    await settle(P, s);

    // The window of 10 closed: its summary went to the new conversation, then both raw notes were redacted
    // in the conversations they were posted to.
    expect(emulator().notes(first).map((n) => n.redacted)).toEqual([true]);
    const secondNotes = emulator().notes(second);
    expect(secondNotes.some((n) => (n.body ?? "").includes("<b>Session summary</b>"))).toBe(true);
    expect(secondNotes.filter((n) => n.redacted)).toHaveLength(1);
  });
});
