/**
 * A user's activity, pure: what one session answers (its user only, newest first, clipped), the
 * merge across sessions (newest first, `limit`), the caps (10 sessions, 16,000 characters: oldest
 * actions first, then the oldest summaries), the empty answer, and a long context's clipping.
 */
import { describe, expect, it } from "vitest";
import { boundedContext, MAX_CONTEXT_CHARS, userActivityText } from "../../src/agents/activityText";
import { MAX_FIELD_CHARS, MAX_SUMMARY_CHARS, sessionActivity, type SessionActivity } from "../../src/agents/sessionActivity";
import { shapeUserActivity, USER_ACTIVITY } from "../../src/agents/userActivity";
import type { SlimAction } from "../../src/session/model";
import type { SessionRow, WindowRow } from "../../src/session/store/schema";

const T0 = 1_700_000_000;

const act = (n: number, over: Partial<SlimAction> = {}): SlimAction => ({
  title: `Action ${n}`,
  description: `did ${n}`,
  canonical_url: `https://app.example.com/${n}`,
  index: n,
  type: "click",
  timestamp_start: T0 + n,
  timestamp_end: 0,
  raw_url: "",
  session_id: null,
  user_id: null,
  email: null,
  conversation_id: null,
  ...over,
});

const row = (over: Partial<SessionRow> = {}) => ({ session_id: "s", user_id: "u", link: null, created_at: 1_000, last_action_at: 2_000, ...over }) as SessionRow;
const summary = (text: string) => ({ summary: text, posted_at: 3_000 }) as WindowRow;

/** A session's answer with actions `from`..`to` (inclusive), last active at `at` (ms). */
function answer(id: string, at: number, from: number, to: number, text: string | null = null): SessionActivity {
  const actions = Array.from({ length: to - from + 1 }, (_, i) => act(from + i));
  return sessionActivity(row({ session_id: id, last_action_at: at }), text ? summary(text) : null, actions, { maxActions: 50, userId: "u" })!;
}

describe("what one session answers", () => {
  it("its newest uncovered actions first, at most maxActions, with ISO times and the latest summary", () => {
    const a = sessionActivity(row(), summary("Looked at billing"), [act(1), act(2), act(3)], { maxActions: 2, userId: "u" })!;
    expect(a.recent_actions.map((x) => x.description)).toEqual(["did 3", "did 2"]);
    expect(a.recent_actions[0]!.at).toBe(new Date((T0 + 3) * 1000).toISOString());
    expect(a).toMatchObject({ session_id: "s", more_actions: 1, latest_summary: { text: "Looked at billing", posted_at: new Date(3_000).toISOString() } });
  });

  it("nothing for another user; none of the actions stamped with another user; no time when the source gave none", () => {
    expect(sessionActivity(row({ user_id: "someone-else" }), null, [act(1)], { maxActions: 5, userId: "u" })).toBeNull();
    const a = sessionActivity(row(), null, [act(1, { user_id: "u" }), act(2, { user_id: "v" }), act(3, { timestamp_start: 0 })], { maxActions: 5, userId: "u" })!;
    expect(a.recent_actions.map((x) => [x.description, x.at])).toEqual([
      ["did 3", null],
      ["did 1", new Date((T0 + 1) * 1000).toISOString()],
    ]);
  });

  it("clips long fields and summaries", () => {
    const a = sessionActivity(row(), summary("s".repeat(5_000)), [act(1, { description: "d".repeat(1_000) })], { maxActions: 5, userId: "u" })!;
    expect(a.latest_summary!.text).toHaveLength(MAX_SUMMARY_CHARS);
    expect(a.recent_actions[0]!.description).toHaveLength(MAX_FIELD_CHARS);
    expect(a.recent_actions[0]!.description.endsWith("\u2026")).toBe(true);
  });
});

describe("a user's activity across sessions", () => {
  it("sessions by latest activity, actions merged newest first and cut at limit", () => {
    const a = shapeUserActivity("p", "u", [answer("old", 1_000, 1, 3, "Old summary"), answer("new", 9_000, 10, 11)], 4, false);
    expect(a.sessions.map((s) => s.session_id)).toEqual(["new", "old"]);
    expect(a.recent_actions.map((x) => `${x.session_id}:${x.description}`)).toEqual(["new:did 11", "new:did 10", "old:did 3", "old:did 2"]);
    expect(a).toMatchObject({ found: true, truncated: true });
    const text = userActivityText(a);
    expect(text).toContain("2 sessions of user \"u\"");
    expect(text).toContain("Summary (posted 1970-01-01 00:00:03 UTC): Old summary");
    expect(text).toMatch(/^1\. 2023-11-14 22:13:31 UTC · session new · click: did 11 — https:\/\/app\.example\.com\/11$/m);
  });

  it("not truncated when everything fits", () => {
    expect(shapeUserActivity("p", "u", [answer("a", 1_000, 1, 2)], 20, false).truncated).toBe(false);
    expect(shapeUserActivity("p", "u", [answer("a", 1_000, 1, 2)], 20, true).truncated).toBe(true);
  });

  it("within 16,000 characters: the oldest actions go first, then the oldest sessions' summaries", () => {
    const long = (i: number) => `${i} ${"x".repeat(MAX_SUMMARY_CHARS - 10)}`;
    const sessions = Array.from({ length: USER_ACTIVITY.maxSessions }, (_, i) => answer(`s${i}`, 1_000 + i, i * 10, i * 10 + 4, long(i)));
    const a = shapeUserActivity("p", "u", sessions, 50, false);
    expect(userActivityText(a).length).toBeLessThanOrEqual(USER_ACTIVITY.maxTextChars);
    expect(a.truncated).toBe(true);
    expect(a.recent_actions).toEqual([]);
    // The newest sessions keep their summaries.
    expect(a.sessions[0]).toMatchObject({ session_id: "s9", latest_summary: { text: long(9) } });
    expect(a.sessions.at(-1)).toMatchObject({ session_id: "s0", latest_summary: null });
  });

  it("no session: found false and a message that says so", () => {
    const a = shapeUserActivity("p", "nobody", [], 20, false);
    expect(a).toMatchObject({ found: false, sessions: [], recent_actions: [], truncated: false });
    expect(userActivityText(a)).toBe('No activity found for user "nobody" in product "p": the product or user is unknown, or no session of theirs carried this user_id.');
  });
});

describe("a long session context", () => {
  it("keeps its head (the summary) and its newest tail within the cap", () => {
    expect(boundedContext("short")).toEqual({ context: "short", clipped: false });
    const context = `Summary: ${"a".repeat(5_000)}${"b".repeat(20_000)}newest`;
    const bounded = boundedContext(context);
    expect(bounded.clipped).toBe(true);
    expect(bounded.context.length).toBeLessThanOrEqual(MAX_CONTEXT_CHARS);
    expect(bounded.context.length).toBeGreaterThan(MAX_CONTEXT_CHARS - 10);
    expect(bounded.context.startsWith("Summary: aaa")).toBe(true);
    expect(bounded.context.endsWith("bbbnewest")).toBe(true);
    expect(bounded.context).toMatch(/characters left out/);
  });
});
