#!/usr/bin/env node
// `npm run dev`: writes local secrets to .dev.vars (git-ignored) on first run, then starts
// `wrangler dev` fully offline: store destination, extractive summariser, no account needed.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const FILE = ".dev.vars";

if (!existsSync(FILE)) {
  const lines = [
    "# Local development values written by `npm run dev`. Git ignores this file.",
    `API_TOKEN=dev-${randomBytes(16).toString("hex")}`,
    `WEBHOOK_SECRET=whsec_${randomBytes(32).toString("base64")}`,
    `CONNECTOR_SECRET=${randomBytes(24).toString("hex")}`,
    `POSTHOG_WEBHOOK_SECRET=${randomBytes(24).toString("hex")}`,
    "",
  ];
  writeFileSync(FILE, lines.join("\n"), { mode: 0o600 });
  console.log(`Wrote ${FILE} with fresh local secrets.`);
}

const token = /^API_TOKEN=(.*)$/m.exec(readFileSync(FILE, "utf8"))?.[1] ?? "(see .dev.vars)";
console.log(`API token for local requests: ${token}`);
console.log(`Try: export TOKEN=$(grep ^API_TOKEN= ${FILE} | cut -d= -f2)\n`);

const child = spawn("wrangler", ["dev", "--ip", "127.0.0.1", ...process.argv.slice(2)], { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
