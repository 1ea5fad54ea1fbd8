import { describe, expect, it } from "vitest";
import { canonicalizeUrl, collapsePath, isIdSegment, MAX_URL_LENGTH, pageNameFromUrl } from "../../src/sources/urls";

describe("isIdSegment", () => {
  it.each([
    ["8421", true],
    ["0195b4a3-1111-7222-8333-944455556666", true], // UUIDv7 as PostHog writes them
    ["0195B4A311117222833394445555666A", true], // dashless, upper-case hex
    ["5f1d7c2e9a4b3c8d7e6f5a4b", true], // Mongo ObjectId
    ["a3f9c2d4e5b6", true], // 12 hex
    ["a3f9c2d4e5b", false], // 11 hex: too short to be sure
    ["01HQZ8X3K7M2N4P6R8T0V2W4Y6", true], // ULID
    ["V1StGXR8_Z5jdHi6B-myT", true], // nanoid
    ["cus_NffrFeUfNV2Hib", true], // Stripe-style customer id
    ["user_settings", false], // prefix_word without digits is a word
    ["inv_8Hd72kd91", true], // Stripe-style id with digits
    ["dana@example.com", true],
    ["dana%40example.com", true], // percent-encoded in a pathname
    ["settings", false],
    ["account-settings-overview", false], // long slug without digits stays readable
    ["v2", false],
    ["2fa", false],
    ["release-2024", false], // short slug with a year
  ])("%s → %s", (segment, expected) => {
    expect(isIdSegment(segment)).toBe(expected);
  });
});

describe("collapsePath", () => {
  it("collapses ids and normalises slashes", () => {
    expect(collapsePath("/projects/8421/tasks/0195b4a3-1111-7222-8333-944455556666/")).toBe("/projects/:id/tasks/:id");
    expect(collapsePath("//a//b")).toBe("/a/b");
    expect(collapsePath("")).toBe("/");
    expect(collapsePath("/")).toBe("/");
  });
});

describe("canonicalizeUrl", () => {
  it.each([
    ["https://App.Acme.io/dashboard?ref=email#top", "https://app.acme.io/dashboard"],
    ["https://app.acme.io/", "https://app.acme.io/"],
    ["https://app.acme.io", "https://app.acme.io/"],
    ["https://app.acme.io/settings/billing/?tab=invoices", "https://app.acme.io/settings/billing"],
    ["https://app.acme.io/projects/8421/tasks/0195b4a3-1111-7222-8333-944455556666?view=board", "https://app.acme.io/projects/:id/tasks/:id"],
    ["https://app.acme.io/reports/5f1d7c2e9a4b3c8d7e6f5a4b/edit", "https://app.acme.io/reports/:id/edit"],
    ["https://app.acme.io/users/dana@example.com/profile", "https://app.acme.io/users/:id/profile"],
    ["https://user:pass@app.acme.io:8443/x", "https://app.acme.io:8443/x"], // credentials never kept
    ["http://localhost:5173/orders/17", "http://localhost:5173/orders/:id"],
    // Hash routers: the fragment is the page.
    ["https://app.acme.io/#/projects/8421?tab=1", "https://app.acme.io/#/projects/:id"],
    ["https://app.acme.io/app#!/orders/17/", "https://app.acme.io/app#!/orders/:id"],
    ["https://app.acme.io/#/", "https://app.acme.io/"],
    ["https://app.acme.io/docs#section-2", "https://app.acme.io/docs"],
    // Relative URLs (Segment paths, link hrefs) stay relative.
    ["/settings/billing?tab=invoices", "/settings/billing"],
    ["/orders/17#items", "/orders/:id"],
    ["about:blank", "about:blank"],
    ["", ""],
    ["   ", ""],
  ])("%s → %s", (raw, expected) => {
    expect(canonicalizeUrl(raw)).toBe(expected);
  });

  it("cuts absurdly long URLs", () => {
    const long = "https://app.acme.io/" + "page-".repeat(1000);
    expect(canonicalizeUrl(long)).toHaveLength(MAX_URL_LENGTH);
  });
});

describe("pageNameFromUrl", () => {
  it.each([
    ["https://app.acme.io/dashboard?x=1", "Dashboard"],
    ["https://app.acme.io/", "Home"],
    ["https://app.acme.io/settings/billing-info", "Billing info"],
    ["https://app.acme.io/projects/8421", "Projects"],
    ["https://app.acme.io/projects/8421/tasks/0195b4a3-1111-7222-8333-944455556666", "Tasks"],
    ["https://app.acme.io/reports/5f1d7c2e9a4b3c8d7e6f5a4b/edit", "Reports \u203a Edit"],
    ["https://app.acme.io/docs/index.html", "Docs"],
    ["https://app.acme.io/home", "Home"],
    ["https://app.acme.io/#/team_members", "Team members"],
    ["/checkout/payment", "Payment"],
    ["", ""],
  ])("%s → %s", (raw, expected) => {
    expect(pageNameFromUrl(raw)).toBe(expected);
  });
});
