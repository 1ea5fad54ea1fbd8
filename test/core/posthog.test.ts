import { describe, expect, it } from "vitest";
import type { SlimAction } from "../../src/session/model";
import { actionToText } from "../../src/session/model";
import { humanizeEventName, parseTimestamp, type SourceParseOptions } from "../../src/sources/common";
import { parseElementsChain } from "../../src/sources/elementsChain";
import { parsePosthogBody } from "../../src/sources/posthog";
import nativeBatch from "../fixtures/posthog/native-batch.json";
import cdpDefault from "../fixtures/posthog/cdp-default.json";
import hogFlatClick from "../fixtures/posthog/hog-flat-click.json";
import hogFlatPageview from "../fixtures/posthog/hog-flat-pageview.json";

const NOW = 1741083400;
const opts: SourceParseOptions = { productId: "acme", now: NOW };
const T0 = 1741083300; // 2025-03-04T10:15:00Z

const SESSION_A = "0195b4a2-7c1e-7d3a-9f00-3c2b1a0e9d11";
const ANON_A = "0195b4a1-9d8e-7f00-b1c2-d3e4f5a6b7c8";
const ANON_B = "0195b4a3-2b7c-7e11-8f00-aa11bb22cc33";
const DASHBOARD = "https://app.acme.io/dashboard?ref=welcome_email";
const BILLING = "https://app.acme.io/settings/billing?tab=invoices";

type Row = [type: string, title: string, description: string, raw_url: string, canonical_url: string, start: number, end: number, user_id: string | null];

/** Expands compact rows into the exact SlimActions expected (index, session and identity filled in). */
function actions(session: string, rows: Row[], email: string | null = null): SlimAction[] {
  return rows.map(([type, title, description, raw_url, canonical_url, timestamp_start, timestamp_end, user_id], index) => ({
    title,
    description,
    canonical_url,
    index,
    type,
    timestamp_start,
    timestamp_end,
    raw_url,
    session_id: session,
    user_id,
    email,
    conversation_id: null,
  }));
}

function parseOk(body: unknown, o: SourceParseOptions = opts) {
  const r = parsePosthogBody(body, o);
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r;
}

describe("parsePosthogBody: native batch", () => {
  const r = parseOk(nativeBatch);

  it("groups by $session_id, falls back to distinct_id, and counts every dropped event by reason", () => {
    expect(r.events).toBe(17);
    expect(r.batches.map((b) => b.payload.session_id)).toEqual([SESSION_A, ANON_B]);
    expect(r.dropped).toEqual({ low_signal: 3, duplicate: 1, no_session: 1, invalid: 1 });
  });

  it("produces the exact actions of the identified session, ordered by time with timestamp_end chained", () => {
    const [a] = r.batches;
    expect(a!.payload).toEqual({
      product_id: "acme",
      session_id: SESSION_A,
      user_id: "usr_42", // the latest identity in the batch
      email: "dana@example.com", // from the dropped $identify's $set
      conversation_id: null,
      forwarded_at: NOW,
      actions: actions(SESSION_A, [
        ["pageview", "Page Load: Dashboard | Acme Analytics", "User landed on the Dashboard page", DASHBOARD, "https://app.acme.io/dashboard", T0, T0 + 4.25, ANON_A],
        ["click", "Click 'Export CSV' button", "User clicked the 'Export CSV' button on the Dashboard page", DASHBOARD, "https://app.acme.io/dashboard", T0 + 4.25, T0 + 9.5, ANON_A],
        ["click", "Click 'Billing' link", "User clicked the 'Billing' link to /settings/billing on the Dashboard page", DASHBOARD, "https://app.acme.io/dashboard", T0 + 9.5, 1741083310.1, ANON_A],
        ["pageview", "Page Load: Billing \u00b7 Acme Analytics", "User landed on the Billing page", BILLING, "https://app.acme.io/settings/billing", 1741083310.1, T0 + 20, "usr_42"],
        ["change", "Change 'Billing email' field", "User changed the 'Billing email' field on the Billing page", BILLING, "https://app.acme.io/settings/billing", T0 + 20, T0 + 25, "usr_42"],
        ["submit", "Submit 'Billing details' form", "User submitted the 'Billing details' form on the Billing page", BILLING, "https://app.acme.io/settings/billing", T0 + 25, T0 + 31, "usr_42"],
        ["rageclick", "Rage click on 'Save changes' button", "User clicked the 'Save changes' button repeatedly (rage click) on the Billing page", BILLING, "https://app.acme.io/settings/billing", T0 + 31, T0 + 40, "usr_42"],
        ["click", "Click 'Read the docs' link", "User clicked the 'Read the docs' link to https://docs.acme.io/billing/invoices on the Billing page", BILLING, "https://app.acme.io/settings/billing", T0 + 40, T0 + 45, "usr_42"],
        ["custom", "Invoice downloaded", "User triggered the 'Invoice downloaded' event on the Billing page", BILLING, "https://app.acme.io/settings/billing", T0 + 45, T0 + 45, "usr_42"],
      ]),
    });
    expect(a!.eventIds).toEqual([
      "0195b4a2-7c20-7000-8000-00000000a001",
      "0195b4a2-8c6a-7000-8000-00000000a002",
      "0195b4a2-a25c-7000-8000-00000000a004",
      "0195b4a2-a4c4-7000-8000-00000000a006",
      "0195b4a2-cae0-7000-8000-00000000a007",
      "0195b4a2-de68-7000-8000-00000000a008",
      "0195b4a2-f5d8-7000-8000-00000000a009",
      "0195b4a3-1c40-7000-8000-00000000a013",
      "0195b4a3-2fc8-7000-8000-00000000a014",
    ]);
  });

  it("keeps an anonymous user without $session_id in a session of its own (its distinct_id)", () => {
    const b = r.batches[1]!;
    const raw = "https://app.acme.io/projects/8421/tasks/0195b4a3-1111-7222-8333-944455556666?view=board";
    expect(b.payload).toEqual({
      product_id: "acme",
      session_id: ANON_B,
      user_id: ANON_B,
      email: null,
      conversation_id: null,
      forwarded_at: NOW,
      actions: actions(ANON_B, [
        ["pageview", "Page Load: Sprint board \u2013 Acme", "User landed on the Tasks page (title 'Sprint board \u2013 Acme')", raw, "https://app.acme.io/projects/:id/tasks/:id", T0 + 60, T0 + 63, ANON_B],
        ["click", "Click 'Close panel' button", "User clicked the 'Close panel' button on the Tasks page", raw, "https://app.acme.io/projects/:id/tasks/:id", T0 + 63, T0 + 63, ANON_B],
      ]),
    });
  });

  it("renders as the SDK's one-liners without leaking query strings", () => {
    const lines = r.batches[0]!.payload.actions.map(actionToText);
    expect(lines[1]).toBe("[1] click: User clicked the 'Export CSV' button on the Dashboard page \u2014 https://app.acme.io/dashboard");
    expect(lines.join("\n")).not.toMatch(/ref=|tab=|utm_source/);
  });

  it("gives the same result whatever order PostHog delivers the events in", () => {
    const reversed = { batch: [...nativeBatch.batch].reverse() };
    const again = parseOk(reversed);
    const strip = (p: typeof r) => p.batches.map((b) => b.payload.actions.map((x) => [x.title, x.timestamp_start, x.timestamp_end]));
    expect(strip(again)).toEqual(strip(r));
    expect(again.dropped).toEqual(r.dropped);
  });

  it("gives the same payloads for 200 random delivery orders with random redeliveries mixed in", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 200; run++) {
      const events = [...nativeBatch.batch];
      const extra = Math.floor(random() * 5);
      for (let i = 0; i < extra; i++) events.push(events[Math.floor(random() * events.length)]!);
      for (let i = events.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [events[i], events[j]] = [events[j]!, events[i]!];
      }
      const shuffled = parseOk({ batch: events });
      expect(shuffled.batches).toEqual(r.batches);
      expect(shuffled.dropped).toEqual({ ...r.dropped, duplicate: 1 + extra });
    }
  });
});

describe("parsePosthogBody: CDP webhook default body {event, person}", () => {
  it("reads event and person, uses $current_url (never event.url, the PostHog UI link), and the person's email", () => {
    const r = parseOk(cdpDefault);
    expect(r.dropped).toEqual({});
    expect(r.batches).toEqual([
      {
        eventIds: ["0195b4d0-0a1b-7c2d-8e3f-405162738495"],
        payload: {
          product_id: "acme",
          session_id: "0195b4cf-ffee-7000-9000-0123456789ab",
          user_id: "usr_77",
          email: "lee@example.com",
          conversation_id: null,
          forwarded_at: NOW,
          actions: actions(
            "0195b4cf-ffee-7000-9000-0123456789ab",
            [
              [
                "click",
                "Click 'Share report' button",
                "User clicked the 'Share report' button on the Reports \u203a Edit page",
                "https://app.acme.io/reports/5f1d7c2e9a4b3c8d7e6f5a4b/edit?draft=1",
                "https://app.acme.io/reports/:id/edit",
                1741086000.5,
                1741086000.5,
                "usr_77",
              ],
            ],
            "lee@example.com",
          ),
        },
      },
    ]);
  });
});

describe("parsePosthogBody: Hog-function flat payload", () => {
  it("reads one flat click (button_or_link_text, element_id, email) into one action", () => {
    const r = parseOk(hogFlatClick);
    expect(r.batches).toHaveLength(1);
    const p = r.batches[0]!.payload;
    expect(p.actions).toEqual(
      actions(
        "0195b4e1-3300-7000-a000-00000000f001",
        [
          [
            "click",
            "Click 'Upgrade to Pro' button",
            "User clicked the 'Upgrade to Pro' button on the Plans page",
            "https://app.acme.io/plans?plan=pro&coupon=SPRING25",
            "https://app.acme.io/plans",
            1741091400,
            1741091400,
            "usr_9",
          ],
        ],
        "sam@example.com",
      ),
    );
    expect(p).toMatchObject({ session_id: "0195b4e1-3300-7000-a000-00000000f001", user_id: "usr_9", email: "sam@example.com" });
  });

  it("has no uuid, so a content fingerprint stands in: the same event twice gives the same id", () => {
    const a = parseOk(hogFlatClick).batches[0]!.eventIds;
    const b = parseOk(JSON.parse(JSON.stringify(hogFlatClick))).batches[0]!.eventIds;
    expect(a).toEqual(b);
    expect(a[0]).toMatch(/^fp:/);
    const other = parseOk({ ...hogFlatClick, timestamp: "2025-03-04T12:30:01.000Z" }).batches[0]!.eventIds;
    expect(other).not.toEqual(a);
  });

  it("reads a flat pageview without a document title (page name from the path)", () => {
    const r = parseOk(hogFlatPageview);
    expect(r.batches[0]!.payload.actions).toEqual(
      actions("0195b4e1-3300-7000-a000-00000000f001", [
        ["pageview", "Page Load: Plans", "User landed on the Plans page", "https://app.acme.io/plans?plan=pro&coupon=SPRING25", "https://app.acme.io/plans", 1741091395, 1741091395, "usr_9"],
      ]),
    );
  });

  it("uses the flat hints when there is no elements_chain", () => {
    const r = parseOk({
      event: "$autocapture",
      event_type: "click",
      timestamp: "2025-03-04T12:31:00Z",
      session_id: "s-1",
      distinct_id: "u-1",
      current_url: "https://app.acme.io/help",
      elements_chain: "",
      link_destination: "/help/contact",
      button_or_link_text: "Contact us",
    });
    expect(r.batches[0]!.payload.actions[0]).toMatchObject({
      title: "Click 'Contact us' link",
      description: "User clicked the 'Contact us' link to /help/contact on the Help page",
    });
  });
});

/** One raw event in a batch for a compact test. */
function ev(event: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    uuid: crypto.randomUUID(),
    event,
    timestamp: "2025-03-04T10:00:00.000Z",
    distinct_id: "u-1",
    properties: { $session_id: "s-1", $current_url: "https://app.acme.io/settings/profile", ...properties },
    ...extra,
  };
}

function one(e: unknown): SlimAction {
  const r = parseOk({ batch: [e] });
  expect(r.batches).toHaveLength(1);
  return r.batches[0]!.payload.actions[0]!;
}

describe("parsePosthogBody: event mapping", () => {
  it.each([
    // [event, properties, type, title, description]
    ["$autocapture", { $event_type: "click", $elements_chain: 'a:attr__href="#"text="Show more"' }, "click", "Click 'Show more' link", "User clicked the 'Show more' link on the Profile page"],
    ["$autocapture", { $event_type: "click", $elements_chain: 'a:attr__href="mailto:help@acme.io"text="Email us"' }, "click", "Click 'Email us' link", "User clicked the 'Email us' link on the Profile page"],
    ["$autocapture", { $event_type: "click", $elements_chain: 'div.card:nth-child="1";div.grid;body' }, "click", "Click element", "User clicked an element on the Profile page"],
    ["$autocapture", { $event_type: "click", $elements_chain: 'img:attr__alt="Company logo"nth-child="1";a:attr__href="/"' }, "click", "Click 'Company logo' link", "User clicked the 'Company logo' link to / on the Profile page"],
    ["$autocapture", { $event_type: "click", $elements_chain: 'input:attr__type="submit"attr__value="Sign up"' }, "click", "Click 'Sign up' button", "User clicked the 'Sign up' button on the Profile page"],
    // An input's value is what the user typed: never a label.
    ["$autocapture", { $event_type: "click", $elements_chain: 'input:attr__type="text"attr__value="secret stuff"attr__name="nickname"' }, "click", "Click 'nickname' field", "User clicked the 'nickname' field on the Profile page"],
    ["$autocapture", { $event_type: "change", $elements_chain: 'input:attr__type="checkbox"attr__id="newsletter"' }, "change", "Change 'newsletter' checkbox", "User changed the 'newsletter' checkbox on the Profile page"],
    ["$autocapture", { $event_type: "change", $elements_chain: 'select:attr__name="timezone"' }, "change", "Change 'timezone' dropdown", "User changed the 'timezone' dropdown on the Profile page"],
    ["$autocapture", { $event_type: "submit", $elements_chain: 'form:attr__name="profile"' }, "submit", "Submit 'profile' form", "User submitted the 'profile' form on the Profile page"],
    ["$autocapture", { $event_type: "submit", $elements_chain: "form;body" }, "submit", "Submit form", "User submitted a form on the Profile page"],
    ["$autocapture", { $event_type: "keydown", $elements_chain: 'input:attr__placeholder="Search…"' }, "type", "Type in 'Search…' field", "User typed in the 'Search…' field on the Profile page"],
    ["$autocapture", { $elements_chain: 'div:attr__role="tab"text="Security"' }, "click", "Click 'Security' tab", "User clicked the 'Security' tab on the Profile page"],
    ["$dead_click", { $el_text: "Avatar", $elements_chain: 'img:attr__alt="Avatar"' }, "deadclick", "Dead click on 'Avatar' image", "User clicked the 'Avatar' image on the Profile page, but nothing happened (dead click)"],
    ["$copy_autocapture", { $copy_type: "copy", $selected_content: "private text" }, "copy", "Copy text", "User copied text on the Profile page"],
    ["$screen", { $screen_name: "Checkout", $current_url: undefined }, "pageview", "Screen View: Checkout", "User opened the Checkout screen"],
    [
      "$exception",
      { $exception_list: [{ type: "TypeError", value: "Cannot read properties of undefined (reading 'plan')" }] },
      "error",
      "Error: TypeError",
      "An error occurred on the Profile page: TypeError: Cannot read properties of undefined (reading 'plan')",
    ],
    ["Report Exported", {}, "custom", "Report Exported", "User triggered the 'Report Exported' event on the Profile page"],
    ["checkoutStarted", {}, "custom", "Checkout started", "User triggered the 'Checkout started' event on the Profile page"],
  ])("%s %j → %s", (event, properties, type, title, description) => {
    const a = one(ev(event, properties));
    expect({ type: a.type, title: a.title, description: a.description }).toEqual({ type, title, description });
    expect(JSON.stringify(a)).not.toContain("secret stuff");
    expect(JSON.stringify(a)).not.toContain("private text");
  });

  it("drops low-signal $ events, and any $ event it does not know", () => {
    const names = ["$pageleave", "$identify", "$set", "$feature_flag_called", "$groupidentify", "$create_alias", "$web_vitals", "$opt_in", "$snapshot", "$some_future_event"];
    const r = parseOk({ batch: names.map((n) => ev(n, {})) });
    expect(r.batches).toEqual([]);
    expect(r.dropped).toEqual({ low_signal: names.length });
  });

  it("describes a pageview without a URL", () => {
    const withTitle = one(ev("$pageview", { $current_url: undefined, title: "Welcome" }));
    expect([withTitle.title, withTitle.description, withTitle.canonical_url]).toEqual(["Page Load: Welcome", "User landed on the page 'Welcome'", ""]);
    const bare = one(ev("$pageview", { $current_url: undefined }));
    expect([bare.title, bare.description]).toEqual(["Page Load: unknown page", "User landed on a page"]);
  });

  it("builds the URL from $host and $pathname when $current_url is missing", () => {
    const a = one(ev("$pageview", { $current_url: undefined, $host: "App.Acme.io", $pathname: "/orders/17" }));
    expect([a.raw_url, a.canonical_url, a.description]).toEqual(["https://App.Acme.io/orders/17", "https://app.acme.io/orders/:id", "User landed on the Orders page"]);
  });

  it("reads posthog-js's raw $elements array when there is no chain", () => {
    const a = one(
      ev("$autocapture", {
        $event_type: "click",
        $elements: [
          { tag_name: "span", $el_text: "Invite teammate", nth_child: 1 },
          { tag_name: "button", attr__class: "btn", classes: ["btn"] },
        ],
      }),
    );
    expect(a.title).toBe("Click 'Invite teammate' button");
  });

  it("cuts long labels and titles", () => {
    const a = one(ev("$autocapture", { $event_type: "click", $el_text: "x".repeat(500), $elements_chain: "button" }));
    expect(a.title).toBe(`Click '${"x".repeat(59)}\u2026' button`);
  });

  it("carries properties.email on the action and the batch", () => {
    const r = parseOk({ batch: [ev("$pageview", { email: "kim@example.com" })] });
    expect(r.batches[0]!.payload.email).toBe("kim@example.com");
    expect(r.batches[0]!.payload.actions[0]!.email).toBe("kim@example.com");
  });

  it("keeps events with equal timestamps in delivery order", () => {
    const r = parseOk({ batch: [ev("first_thing", {}), ev("second_thing", {}), ev("third_thing", {})] });
    expect(r.batches[0]!.payload.actions.map((a) => a.title)).toEqual(["First thing", "Second thing", "Third thing"]);
  });

  it("splits a long session into payloads of at most maxActionsPerPayload, timestamps still chained", () => {
    const batch = Array.from({ length: 5 }, (_, i) => ev(`step_${i}`, {}, { timestamp: new Date((T0 + i) * 1000).toISOString() }));
    const r = parseOk({ batch }, { ...opts, maxActionsPerPayload: 2 });
    expect(r.batches.map((b) => b.payload.actions.map((a) => [a.index, a.timestamp_start, a.timestamp_end]))).toEqual([
      [[0, T0, T0 + 1], [1, T0 + 1, T0 + 2]],
      [[0, T0 + 2, T0 + 3], [1, T0 + 3, T0 + 4]],
      [[0, T0 + 4, T0 + 4]],
    ]);
    expect(r.batches.map((b) => b.eventIds.length)).toEqual([2, 2, 1]);
  });

  it("never carries an unusable id: control characters or over 256 characters", () => {
    const r = parseOk({
      batch: [
        ev("$pageview", { $session_id: "s-ok" }, { distinct_id: "d".repeat(300) }),
        ev("$pageview", { $session_id: "bad\nsession" }),
        ev("$pageview", { $session_id: "s-ok", email: "x".repeat(300) + "@example.com" }, { timestamp: "2025-03-04T10:00:01Z" }),
      ],
    });
    expect(r.dropped).toEqual({ invalid: 1 });
    expect(r.batches[0]!.payload).toMatchObject({ session_id: "s-ok", user_id: "u-1", email: null });
    expect(r.batches[0]!.payload.actions.map((a) => [a.user_id, a.email])).toEqual([
      [null, null],
      ["u-1", null],
    ]);
  });

  it("reads the older $exception_type / $exception_message properties", () => {
    const a = one(ev("$exception", { $exception_type: "NetworkError", $exception_message: "Failed to fetch" }));
    expect([a.type, a.title, a.description]).toEqual(["error", "Error: NetworkError", "An error occurred on the Profile page: NetworkError: Failed to fetch"]);
  });

  it("keeps an unknown $event_type as the action type, sanitised", () => {
    const a = one(ev("$autocapture", { $event_type: "Touch Start!", $elements_chain: 'button:text="Menu"' }));
    expect([a.type, a.title, a.description]).toEqual(["touchstart", "Touchstart 'Menu' button", "User interacted (touchstart) with the 'Menu' button on the Profile page"]);
  });

  it("counts non-objects, nameless events and absurd session keys as invalid", () => {
    const r = parseOk({ batch: [null, 42, "x", { properties: {} }, ev("$pageview", { $session_id: "s".repeat(300) })] });
    expect(r.dropped).toEqual({ invalid: 5 });
  });
});

describe("parsePosthogBody: body shapes and limits", () => {
  it("accepts a bare JSON array of events", () => {
    expect(parseOk([ev("$pageview", {})]).batches).toHaveLength(1);
  });

  it.each([[{}], [{ batch: "nope" }], [null], ["text"], [{ event: 42 }]])("rejects %j as invalid_payload", (body) => {
    const r = parsePosthogBody(body, opts);
    expect(r).toMatchObject({ ok: false, code: "invalid_payload" });
  });

  it("rejects more events than the limit", () => {
    const r = parsePosthogBody({ batch: [ev("a", {}), ev("b", {}), ev("c", {})] }, { ...opts, maxEvents: 2 });
    expect(r).toEqual({ ok: false, code: "too_many_events", message: "at most 2 events per request, got 3" });
  });

  it("accepts an empty batch as nothing to do", () => {
    expect(parseOk({ batch: [] })).toEqual({ ok: true, batches: [], dropped: {}, events: 0 });
  });
});

describe("parseElementsChain", () => {
  it("splits elements, classes (with Tailwind colons) and escaped attribute values", () => {
    const chain =
      'button.md:flex.px-4:attr__aria-label="Say \\"hi\\"; now"attr__class="md:flex px-4"nth-child="1"text="Hi; there";div.wrap:nth-child="2";body';
    expect(parseElementsChain(chain)).toEqual([
      { tag: "button", classes: ["md:flex", "px-4"], attrs: { "attr__aria-label": 'Say "hi"; now', attr__class: "md:flex px-4", "nth-child": "1", text: "Hi; there" } },
      { tag: "div", classes: ["wrap"], attrs: { "nth-child": "2" } },
      { tag: "body", classes: [], attrs: {} },
    ]);
  });

  it("reads a #id written into the tag", () => {
    expect(parseElementsChain('button#upgrade-btn.btn:text="Go"')).toEqual([{ tag: "button", classes: ["btn"], attrs: { attr__id: "upgrade-btn", text: "Go" } }]);
  });

  it("survives empty and odd input", () => {
    expect(parseElementsChain("")).toEqual([]);
    expect(parseElementsChain(';;  ;')).toEqual([]);
    expect(parseElementsChain('a:text="unterminated')).toEqual([{ tag: "a", classes: [], attrs: {} }]);
  });

  it("reads a chain with line breaks and control characters (the fuzz found it threw)", () => {
    expect(parseElementsChain("\u0000\n\ud800")).toEqual([{ tag: "\u0000\n\ud800", classes: [], attrs: {} }]);
    const body = { batch: [{ event: "$autocapture", timestamp: 1_700_000_000, properties: { $session_id: "s1", $event_type: "click" }, elements_chain: "\u0000\n\ud800" }] };
    const result = parsePosthogBody(body, { productId: "p", now: 1_700_000_100 });
    expect(result.ok).toBe(true);
  });
});

describe("parseTimestamp", () => {
  it.each([
    ["2025-03-04T10:15:04.250Z", T0 + 4.25],
    ["2025-03-04T10:15:04.250123+00:00", T0 + 4.25],
    ["2025-03-04T11:15:04.250+01:00", T0 + 4.25],
    ["2025-03-04 10:15:04.250", T0 + 4.25], // ClickHouse style, no zone: UTC
    ["2025-03-04T10:15:04", T0 + 4],
    [T0 + 4.25, T0 + 4.25], // seconds
    [(T0 + 4.25) * 1000, T0 + 4.25], // milliseconds
    ["1741083304.25", T0 + 4.25],
    ["yesterday", null],
    ["", null],
    [null, null],
    [-5, null],
  ])("%j → %j", (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });
});

describe("humanizeEventName", () => {
  it.each([
    ["signup_completed", "Signup completed"],
    ["checkoutStarted", "Checkout started"],
    ["report-exported", "Report exported"],
    ["Report Exported", "Report Exported"],
    ["  spaced   out  ", "spaced out"],
  ])("%s → %s", (input, expected) => {
    expect(humanizeEventName(input)).toBe(expected);
  });
});
