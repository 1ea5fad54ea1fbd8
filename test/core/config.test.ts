import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, need, parseConfig, parseCore, parseDestination, sessionConfig, type Vars } from "../../src/config";
import { createDestination } from "../../src/destinations/registry";
import { migrate } from "../../src/session/migrations";
import { SessionCore } from "../../src/session/sessionCore";
import { SessionStore } from "../../src/session/sessionStore";
import { createExtractiveSummariser } from "../../src/llm/extractive";
import { createNodeStorage } from "./support/nodeStorage";

const problems = (vars: Vars) => parseConfig(vars).problems.map(({ setting, message }) => ({ setting, message }));

describe("one typed config", () => {
  it("defaults every section, with no problems", () => {
    const c = parseConfig({});
    expect(c.destination).toEqual({ kind: "store" });
    expect(c.destinationName).toBe("store");
    expect(c.access).toEqual({
      apiToken: null,
      connectorSecret: null,
      posthog: { perProduct: null, shared: null },
      publishableKeys: null,
      allowedOrigins: [],
      caching: { keyCacheTtlMs: 60_000, settingsCacheTtlMs: 60_000 },
    });
    expect(c.logLevel).toBe("info");
    expect(c.problems).toEqual([]);
  });

  it("treats blank values (wrangler.toml's empty defaults) as unset", () => {
    const blank = { SUMMARY_PROMPT: "", SUMMARY_FORMAT: " ", LOG_LEVEL: "", PUBLISHABLE_KEYS: "", POSTHOG_WEBHOOK_SECRETS: "", INTERCOM_API_BASE: "" };
    expect(parseConfig(blank)).toEqual(parseConfig({}));
  });

  it("keeps each broken section to itself and lists it by setting", () => {
    const c = parseConfig({ SUMMARY_THRESHOLD: "0", DESTINATION: "webhook", POSTHOG_WEBHOOK_SECRETS: "[]", PUBLISHABLE_KEYS: "{", LOG_LEVEL: "debug", API_TOKEN: " t " });
    expect(c.core).toBeInstanceOf(ConfigError);
    expect(c.destination).toBeInstanceOf(ConfigError);
    expect(c.destinationName).toBe("webhook");
    expect(c.access.apiToken).toBe("t");
    expect(c.logLevel).toBe("info");
    expect(problems({ SUMMARY_THRESHOLD: "0", DESTINATION: "webhook", POSTHOG_WEBHOOK_SECRETS: "[]", PUBLISHABLE_KEYS: "{", LOG_LEVEL: "debug" })).toEqual([
      { setting: "SUMMARY_THRESHOLD", message: 'SUMMARY_THRESHOLD must be an integer from 1 to 1000, got "0"' },
      { setting: "WEBHOOK_URL", message: "DESTINATION=webhook needs WEBHOOK_URL" },
      { setting: "POSTHOG_WEBHOOK_SECRETS", message: "POSTHOG_WEBHOOK_SECRETS is not a JSON object of product ids to secrets" },
      { setting: "PUBLISHABLE_KEYS", message: 'PUBLISHABLE_KEYS must be a JSON object of product_id to key, e.g. {"prod_abc":"pk_..."}' },
      { setting: "LOG_LEVEL", message: 'LOG_LEVEL must be one of info, warn, error, got "debug"' },
    ]);
    expect(parseConfig({ LOG_LEVEL: "warn" }).logLevel).toBe("warn");
  });

  it("METER is off unless set to on; another value is off and a problem", () => {
    expect([parseConfig({}).meter, parseConfig({ METER: "" }).meter, parseConfig({ METER: "on" }).meter]).toEqual([false, false, true]);
    const c = parseConfig({ METER: "yes" });
    expect(c.meter).toBe(false);
    expect(c.problems.map(({ setting, message }) => ({ setting, message }))).toEqual([{ setting: "METER", message: 'METER must be one of off, on, got "yes"' }]);
  });

  it("never puts a secret's value in a message", () => {
    const secret = "s3cr3t-value";
    const messages = problems({
      DESTINATION: "webhook",
      WEBHOOK_URL: "https://hooks.example/in",
      WEBHOOK_SECRET: `whsec_${secret}!`,
      POSTHOG_WEBHOOK_SECRETS: `{"p": "${secret}", "q": 1}`,
      PUBLISHABLE_KEYS: `{"p": "${secret}", "q": ""}`,
    });
    expect(messages.map((m) => m.setting)).toEqual(["WEBHOOK_SECRET", "POSTHOG_WEBHOOK_SECRETS", "PUBLISHABLE_KEYS"]);
    expect(JSON.stringify(messages)).not.toContain(secret);
  });

  it("is parsed once per environment object", () => {
    const env = { SUMMARY_THRESHOLD: "7" } as unknown as Env;
    expect(loadConfig(env)).toBe(loadConfig(env));
    expect(loadConfig({ ...env })).not.toBe(loadConfig(env));
    expect(sessionConfig(env)).toMatchObject({ threshold: 7, destination: "store", lanes: [] });
    expect(() => sessionConfig({ SUMMARY_MODE: "rolled" } as unknown as Env)).toThrow(/SUMMARY_MODE must be one of/);
  });

  it("need() gives a section's value or throws its ConfigError", () => {
    const c = parseConfig({ SUMMARY_PROMPT: "no placeholder" });
    expect(() => need(c.core)).toThrow(ConfigError);
    expect(need(c.destination)).toEqual({ kind: "store" });
  });
});

describe("destination settings", () => {
  const webhook = { DESTINATION: "webhook", WEBHOOK_URL: " https://hooks.example/in ", WEBHOOK_SECRET: "whsec_AAEC" };

  it("is a union on kind with the settings of the destination named", () => {
    expect(parseDestination(webhook)).toEqual({ kind: "webhook", url: "https://hooks.example/in", key: new Uint8Array([0, 1, 2]) });
    expect(parseDestination({ ...webhook, WEBHOOK_SECRET: "plain" })).toMatchObject({ key: new TextEncoder().encode("plain") });
    expect(parseDestination({ DESTINATION: "intercom", INTERCOM_ACCESS_TOKEN: "t", INTERCOM_ADMIN_ID: "1" })).toEqual({
      kind: "intercom",
      accessToken: "t",
      adminId: "1",
      apiBase: "https://api.intercom.io",
      version: "2.14",
    });
  });

  it.each([
    [{ DESTINATION: "zendesk" }, "DESTINATION", 'DESTINATION "zendesk" is not one of store, webhook, intercom, slack'],
    [{ DESTINATION: "slack" }, "SLACK_BOT_TOKEN", "DESTINATION=slack needs SLACK_BOT_TOKEN (wrangler secret put SLACK_BOT_TOKEN)"],
    [{ ...webhook, WEBHOOK_URL: "ftp://x" }, "WEBHOOK_URL", "WEBHOOK_URL must be an http(s) URL"],
    [{ ...webhook, WEBHOOK_SECRET: "" }, "WEBHOOK_SECRET", "DESTINATION=webhook needs WEBHOOK_SECRET (wrangler secret put WEBHOOK_SECRET)"],
    [{ ...webhook, WEBHOOK_SECRET: "whsec_%%" }, "WEBHOOK_SECRET", "WEBHOOK_SECRET must be whsec_ followed by base64"],
    [{ DESTINATION: "intercom", INTERCOM_ACCESS_TOKEN: "t", INTERCOM_ADMIN_ID: "1", INTERCOM_API_BASE: "constructor" }, "INTERCOM_API_BASE", /INTERCOM_API_BASE must be us, eu, au/],
  ] as const)("names the setting when %j is unusable", (vars, setting, message) => {
    const error = parseConfig(vars).destination as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
  });

  it("parks a step with exactly the section's message, and ingest keeps accepting", async () => {
    const storage = createNodeStorage();
    migrate(storage);
    const store = new SessionStore(storage);
    const { destination } = parseConfig({ DESTINATION: "webhook" });
    const io = { fetch, now: () => 0, timeoutMs: 1_000 };
    const core = new SessionCore(
      {
        store,
        config: parseCore({}),
        laneEntries: ['{"type":"webhook"}'],
        destination: () => createDestination(destination, io),
        summariser: createExtractiveSummariser(),
        now: () => 0,
        random: () => 0.5,
        log: () => {},
      },
      { preLinkWindowMs: 120_000, idleMs: 30 * 60_000, retentionMs: 365 * 24 * 3_600_000 },
    );
    const action = { title: "a", description: "a", canonical_url: "/p", index: 0, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null };
    const payload = { product_id: "p", session_id: "s", user_id: null, email: null, conversation_id: null, forwarded_at: 0, actions: [action] };
    expect(core.ingest(payload, { kind: "content", key: "k1" }, 0).outcome).toBe("applied");
    await core.drain(5);
    expect(store.steps()).toMatchObject([{ kind: "deliver", last_error: "DESTINATION=webhook needs WEBHOOK_URL", parked_at: expect.any(Number) }]);
    expect(core.ingest({ ...payload, actions: [{ ...action, title: "b" }] }, { kind: "content", key: "k2" }, 1).outcome).toBe("applied");
  });
});
