import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Test settings shared by every workerd test: no network, a known token, fast retries. */
export const testBindings = {
  API_TOKEN: "test-api-token",
  DESTINATION: "store",
  SUMMARY_THRESHOLD: "10",
  DEBOUNCE_MS: "0",
  LLM_TIMEOUT_MS: "2000",
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "core",
          include: ["test/core/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: testBindings,
              // Deny by default: any fetch that a test did not mock fails loudly instead of leaving the machine.
              outboundService: (request: Request) =>
                new Response(`unexpected outbound request to ${new URL(request.url).host}`, { status: 599 }),
            },
          }),
        ],
        test: {
          name: "workers",
          silent: "passed-only",
          include: ["test/*.test.ts"],
        },
      },
    ],
  },
});
