/**
 * One rule for a bad setting, through the real Worker: a route that needs a broken section answers
 * 503 `misconfigured` with that setting's message, `GET /healthz` lists the broken settings, and
 * broken destination settings never stop ingest. Each test hands the app its own environment.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/worker";
import { auth, batch, uniqueSession } from "./helpers/api";

const app = createApp();

function send(vars: Partial<Env>, path: string, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(app.request(`https://relay.test${path}`, init, { ...env, ...vars }));
}

const postActions = (vars: Partial<Env>, body: unknown) => send(vars, "/v1/actions", { method: "POST", headers: auth, body: JSON.stringify(body) });

async function errorOf(res: Response) {
  return { status: res.status, ...((await res.json()) as { error: { code: string; message: string } }).error };
}

describe("a bad setting gives the same error wherever it is used", () => {
  it("broken core settings: /healthz and ingest answer 503 misconfigured naming the setting", async () => {
    const broken = { SUMMARY_THRESHOLD: "ten" };
    const expected = { status: 503, code: "misconfigured", message: 'SUMMARY_THRESHOLD must be an integer from 1 to 1000, got "ten"' };
    expect(await errorOf(await send(broken, "/healthz"))).toEqual(expected);
    expect(await errorOf(await postActions(broken, batch("cfg", uniqueSession(), 0, 1)))).toEqual(expected);
  });

  it("broken destination settings: ingest still accepts, /healthz lists them", async () => {
    const broken = { DESTINATION: "intercom", INTERCOM_ACCESS_TOKEN: "tok-not-shown", INTERCOM_ADMIN_ID: "bob", LOG_LEVEL: "loud" };
    expect((await postActions(broken, batch("cfg", uniqueSession(), 0, 1))).status).toBe(202);
    const res = await send(broken, "/healthz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "ok", destination: "intercom" });
    expect(body.misconfigured).toEqual([
      { setting: "INTERCOM_ADMIN_ID", message: 'INTERCOM_ADMIN_ID must be a numeric admin id, got "bob"' },
      { setting: "LOG_LEVEL", message: 'LOG_LEVEL must be one of info, warn, error, got "loud"' },
    ]);
    expect(JSON.stringify(body)).not.toContain("tok-not-shown");
  });

  it("a malformed POSTHOG_WEBHOOK_SECRETS: 503 misconfigured, while /v1/actions keeps working", async () => {
    const broken = { POSTHOG_WEBHOOK_SECRETS: '{"acme": 42}' };
    const res = await send(broken, "/webhook/acme", { method: "POST", headers: { "content-type": "application/json", "x-posthog-secret": "x" }, body: "{}" });
    expect(await errorOf(res)).toEqual({ status: 503, code: "misconfigured", message: "POSTHOG_WEBHOOK_SECRETS is not a JSON object of product ids to secrets" });
    expect((await postActions(broken, batch("cfg", uniqueSession(), 0, 1))).status).toBe(202);
  });

  it("a malformed PUBLISHABLE_KEYS: 503 misconfigured; an unset one stays 503 not_configured", async () => {
    const link = (vars: Partial<Env>) =>
      send(vars, "/sessions/link", { method: "POST", headers: { "content-type": "application/json", "x-publishable-key": "pk" }, body: "{}" });
    expect(await errorOf(await link({ PUBLISHABLE_KEYS: '["pk"]' }))).toMatchObject({ status: 503, code: "misconfigured", message: expect.stringMatching(/^PUBLISHABLE_KEYS must be/) });
    expect(await errorOf(await link({}))).toMatchObject({ status: 503, code: "not_configured" });
  });
});
