/**
 * The console's routes in workerd: the page and its script are public and hold no secret or data;
 * the timeline route answers a session's rows with the read scope, 404 for an unknown session,
 * 401 without a key. The browser flow itself is test/browser/console.test.mjs.
 */
import { describe, expect, it } from "vitest";
import { auth, batch, postActions, request, TOKEN, uniqueSession } from "./helpers/api";

describe("GET /console and /console/app.js", () => {
  it("serve the shell and its script without a credential, holding no secret, under a strict CSP", async () => {
    const page = await request("/console");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html><html lang="en">/);
    expect(html).toContain('<script src="/console/app.js" defer="">');
    expect(html).not.toContain(TOKEN);
    const script = await request("/console/app.js");
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    const js = await script.text();
    expect(js).toContain('sessionStorage.getItem(KEY)');
    expect(js).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write/);
  });
});

describe("GET /v1/products/:p/sessions/:s/timeline", () => {
  it("answers the session's batches in order, 404 for an unknown session, 401 without a key", async () => {
    const s = uniqueSession("timeline");
    expect((await postActions(batch("acme", s, 0, 3))).status).toBe(202);
    const res = await request(`/v1/products/acme/sessions/${s}/timeline`, { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session_id: string; events: { type: string; actions?: { title: string }[] }[]; steps: unknown[]; lanes: unknown[] };
    expect(body).toMatchObject({ session_id: s, lanes: [], steps: [] });
    expect(body.events.filter((e) => e.type === "batch").flatMap((e) => e.actions!.map((a) => a.title))).toEqual(["Action 0", "Action 1", "Action 2"]);
    const unknown = await request(`/v1/products/acme/sessions/${uniqueSession("none")}/timeline`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("session_not_found");
    expect((await request(`/v1/products/acme/sessions/${s}/timeline`)).status).toBe(401);
  });
});
