import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

/** Test settings shared by every workerd test: no network, a known token, fast retries. */
export const testBindings = {
  API_TOKEN: "test-api-token",
  DESTINATION: "store",
  SUMMARY_THRESHOLD: "10",
  DEBOUNCE_MS: "0",
  LLM_TIMEOUT_MS: "2000",
  POSTHOG_WEBHOOK_SECRET: "test-posthog-secret",
  POSTHOG_WEBHOOK_SECRETS: '{"acme-own":"test-acme-own-secret","acme-blank":""}',
  CONNECTOR_SECRET: "test-connector-secret",
};

/** The Intercom end-to-end tests talk to the in-process emulator (test/helpers/intercomEmulator.ts). */
export const intercomBindings = {
  ...testBindings,
  DESTINATION: "intercom",
  DESTINATION_TIMEOUT_MS: "300",
  INTERCOM_ACCESS_TOKEN: "test-intercom-token",
  INTERCOM_ADMIN_ID: "991267696",
  PUBLISHABLE_KEYS: JSON.stringify({ "p-intercom": "pk_test_intercom" }),
  LINK_ALLOWED_ORIGINS: "https://app.example.com",
};

/** The Slack end-to-end tests talk to the in-process Web API emulator (test/helpers/slackEmulator.ts). */
export const slackBindings = {
  ...testBindings,
  DESTINATION: "slack",
  DESTINATION_TIMEOUT_MS: "300",
  SLACK_BOT_TOKEN: "xoxb-test-slack-token",
  SLACK_CHANNEL: "C0RELAY",
  SLACK_API_BASE: "https://slack.test/api",
  // For the DELIVERY=replace webhook test (test/slackReplace.test.ts).
  WEBHOOK_SECRET: "whsec_cmVwbGFjZS13ZWJob29rLXNlY3JldC0zMi1ieXRlcyE=",
};

/** Pipeline tests: a real outbound destination and LLM, the fake world behind fetch (test/world, test/helpers/world.ts). */
export const pipelineBindings = {
  ...testBindings,
  DESTINATION: "webhook",
  WEBHOOK_URL: "https://hooks.test/relay",
  WEBHOOK_SECRET: "whsec_dGVzdC13ZWJob29rLXNlY3JldC0zMi1ieXRlcy1sb25nISE=",
  LLM_BASE_URL: "https://llm.test/v1",
  LLM_API_KEY: "test-llm-key",
  LLM_TIMEOUT_MS: "400",
  DESTINATION_TIMEOUT_MS: "400",
};

/**
 * Products, scoped keys and the session index: short caches so a revocation shows within the
 * test, the secrets product settings name, few attempts so a failing step parks quickly, and the
 * fake world's LLM (tests that summarise install the world, test/helpers/world.ts).
 */
export const productBindings = {
  ...testBindings,
  KEY_CACHE_TTL_MS: "300",
  SETTINGS_CACHE_TTL_MS: "300",
  STEP_MAX_ATTEMPTS: "2",
  LLM_BASE_URL: "https://llm.test/v1",
  LLM_API_KEY: "test-llm-key",
  WEBHOOK_SECRET_B: "whsec_cHJvZHVjdC1iLXdlYmhvb2stc2VjcmV0LTMyLWJ5dGVzIQ==",
  CONNECTOR_SECRET_ACME: "test-acme-connector-secret",
  POSTHOG_SECRET_ACME: "test-acme-posthog-secret",
  // The Intercom emulator's token (test/helpers/intercomEmulator.ts), for products that fan out to Intercom.
  INTERCOM_TOKEN_ACME: "test-intercom-token",
};

/** Memory's embedder, faked by the test behind `fetch`; short timeouts so a hung embedder costs little. */
export const memoryBindings = {
  EMBED_MODEL: "text-embedding-3-small",
  EMBED_BASE_URL: "https://embed.test/v1",
  EMBED_API_KEY: "test-embed-key",
  LLM_TIMEOUT_MS: "400",
};

// Deny by default: any fetch that a test did not mock fails loudly instead of leaving the machine.
const denyOutbound = (request: Request) =>
  new Response(`unexpected outbound request to ${new URL(request.url).host}`, { status: 599 });

/**
 * The product stream and the `autoplay` push: every session streams (DESTINATION=stream), a small K,
 * a short heartbeat, a small replay log and subscriber buffer so their bounds show within a test,
 * and the push's receiver behind `fetch` (the tests mock it).
 */
export const streamBindings = {
  ...testBindings,
  DESTINATION: "stream",
  SUMMARY_THRESHOLD: "4",
  STEP_MAX_ATTEMPTS: "2",
  SETTINGS_CACHE_TTL_MS: "300",
  STREAM_HEARTBEAT_MS: "100",
  STREAM_REPLAY_EVENTS: "8",
  STREAM_SUBSCRIBER_BUFFER: "4",
  AUTOPLAY_FORWARD_URL: "https://receiver.test/autoplay",
  AUTOPLAY_SECRET: "test-autoplay-secret",
};

/**
 * The fault campaign's settings: a Standard Webhooks destination and an OpenAI-compatible LLM, both
 * the fake world behind `fetch` (test/world), a small K so windows close often, short timeouts and
 * a short breaker pause so faults cost milliseconds. K and the summary mode are per project, read
 * by the actors from their bindings as a deployment's would be; each project takes one shard of
 * the seeds. Workerd tests only see bindings, so the seed count travels as one:
 * `npm run campaign -- --seeds N` sets CAMPAIGN_SEEDS; `npm test` runs 20, CI 200 (`.ci/run`).
 */
function campaignBindings(shard: number, mode: "rolling" | "independent", threshold: number) {
  return {
    ...testBindings,
    DESTINATION: "webhook",
    WEBHOOK_URL: "https://hooks.test/relay",
    WEBHOOK_SECRET: "whsec_Y2FtcGFpZ24tdGVzdC1zZWNyZXQtMzItYnl0ZXMhIQ==",
    LLM_BASE_URL: "https://llm.test/v1",
    LLM_API_KEY: "test",
    SUMMARY_THRESHOLD: String(threshold),
    SUMMARY_MODE: mode,
    STEP_MAX_ATTEMPTS: "3",
    LLM_TIMEOUT_MS: "150",
    DESTINATION_TIMEOUT_MS: "150",
    LLM_BREAKER_FAILURES: "2",
    LLM_BREAKER_PAUSE_MS: "250",
    CAMPAIGN_SEEDS: process.env.CAMPAIGN_SEEDS ?? "20",
    CAMPAIGN_FIRST_SEED: process.env.CAMPAIGN_FIRST_SEED ?? "1",
    CAMPAIGN_SHARDS: "2",
    CAMPAIGN_SHARD: String(shard),
  };
}

/**
 * The input fuzz (test/fuzz.test.ts): the link route configured so it is fuzzed too, and the
 * number of generated requests, more in CI (`.ci/run` sets FUZZ_RUNS) than in `npm test`.
 */
export const fuzzBindings = {
  ...testBindings,
  PUBLISHABLE_KEYS: JSON.stringify({ fz: "pk_fz" }),
  LINK_ALLOWED_ORIGINS: "https://app.fz.test",
  FUZZ_RUNS: process.env.FUZZ_RUNS ?? "1500",
};

/** A project of workerd tests: the real wrangler config, its own bindings, outbound fetch denied. */
/**
 * Every secret `.dev.vars.example` names, blank (blank means unset), under each project's own
 * bindings: the pool would otherwise read the `.dev.vars` that `npm run dev` writes, and a local
 * WEBHOOK_SECRET there would change what the tests sign and verify.
 */
const LOCAL_SECRETS_UNSET = Object.fromEntries(
  readFileSync(new URL("./.dev.vars.example", import.meta.url), "utf8")
    .split("\n")
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
    .map((name) => [name, ""]),
);

function workerdProject(
  name: string,
  bindings: Record<string, string>,
  test: { include: string[]; exclude?: string[]; testTimeout?: number },
  plugin: { verbose?: boolean } = {},
) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        ...plugin,
        miniflare: { bindings: { ...LOCAL_SECRETS_UNSET, ...bindings }, outboundService: denyOutbound },
      }),
    ],
    test: { name, ...test },
  };
}

export default defineConfig({
  test: {
    // Step logs are JSON lines on stdout; show them only for failing tests.
    silent: "passed-only",
    projects: [
      {
        test: {
          name: "core",
          include: ["test/core/**/*.test.ts"],
          environment: "node",
        },
      },
      // The console in headless Chromium against `wrangler dev` (test/browser/console.test.mjs).
      { test: { name: "browser", include: ["test/browser/**/*.test.mjs"], environment: "node", testTimeout: 60_000, hookTimeout: 90_000 } },
      workerdProject("workers", testBindings, {
        include: ["test/*.test.ts"],
        exclude: ["test/intercom*.test.ts", "test/slack*.test.ts", "test/pipeline*.test.ts", "test/debounce*.test.ts", "test/fuzz*.test.ts", "test/products*.test.ts", "test/fanout*.test.ts", "test/meter*.test.ts", "test/stream*.test.ts", "test/autoplay*.test.ts", "test/memory*.test.ts"],
      }),
      workerdProject("workers-stream", streamBindings, { include: ["test/stream*.test.ts", "test/autoplay*.test.ts"], testTimeout: 20_000 }),
      workerdProject("workers-products", productBindings, { include: ["test/products*.test.ts", "test/fanout*.test.ts"] }),
      // Memory with vectors: an OpenAI-compatible embedder, the test's fake at embed.test (test/memory.test.ts).
      workerdProject("workers-memory", { ...productBindings, ...memoryBindings }, { include: ["test/memory*.test.ts"] }),
      workerdProject("fuzz", fuzzBindings, { include: ["test/fuzz*.test.ts"], testTimeout: 1_800_000 }),
      workerdProject("workers-pipeline", pipelineBindings, { include: ["test/pipeline*.test.ts"] }),
      // The pipeline's world with a debounce, as the SDK's `debounce_ms` runs it.
      workerdProject("workers-debounce", { ...pipelineBindings, DEBOUNCE_MS: "200" }, { include: ["test/debounce*.test.ts"] }),
      // The meter's exact counts (METER=on). A long debounce keeps the alarm from firing until a flush makes the steps due.
      workerdProject("workers-meter", { ...pipelineBindings, METER: "on", DEBOUNCE_MS: "60000", DEBOUNCE_MAX_MS: "60000" }, { include: ["test/meter*.test.ts"] }),
      workerdProject("workers-intercom", intercomBindings, { include: ["test/intercom*.test.ts"] }),
      // Posts are paced at one per second per channel, so these tests wait the pace out.
      workerdProject("workers-slack", slackBindings, { include: ["test/slack*.test.ts"], testTimeout: 30_000 }),
      // The campaign aborts actors hundreds of times on purpose, and workerd would log each abort.
      workerdProject(
        "campaign-rolling",
        campaignBindings(0, "rolling", 3),
        { include: ["test/campaign/**/*.test.ts"], testTimeout: 60_000 },
        { verbose: false },
      ),
      workerdProject(
        "campaign-independent",
        campaignBindings(1, "independent", 5),
        { include: ["test/campaign/campaign.test.ts"], testTimeout: 60_000 },
        { verbose: false },
      ),
    ],
  },
});
