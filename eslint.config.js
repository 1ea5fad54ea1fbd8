import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules", "dist", ".wrangler", "worker-configuration.d.ts", "bench/results"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "always"],
    },
  },
  {
    files: ["test/browser/**/*.mjs"],
    languageOptions: { globals: { window: "readonly", document: "readonly", sessionStorage: "readonly", getComputedStyle: "readonly" } },
  },
  {
    files: ["scripts/**/*.mjs", "bench/**/*.mjs", "test/browser/**/*.mjs"],
    languageOptions: {
      globals: { process: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly", URL: "readonly", fetch: "readonly", performance: "readonly", Buffer: "readonly", AbortSignal: "readonly" },
    },
  },
);
