#!/usr/bin/env node
// `npm run bundle:report`: bundles the Worker as a deploy would (no account needed) and prints its
// raw and gzip size, then each package's share of the bundle, so a dependency's cost is visible
// before it ships. Extra arguments go to wrangler (e.g. `-- --minify=false` for the unminified figure).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const OUT_DIR = "dist";
const META = join(OUT_DIR, "meta.json");

const build = spawnSync("wrangler", ["deploy", "--dry-run", "--outdir", OUT_DIR, "--metafile", META, ...process.argv.slice(2)], {
  stdio: ["ignore", "ignore", "inherit"],
});
if (build.status !== 0) process.exit(build.status ?? 1);

const meta = JSON.parse(readFileSync(META, "utf8"));
const bundles = Object.entries(meta.outputs).filter(([file]) => file.endsWith(".js"));

/** `node_modules/@scope/name/…` → `@scope/name`; our own code is one line; anything else keeps its top folder. */
function owner(input) {
  const parts = input.split("/");
  const at = parts.lastIndexOf("node_modules");
  if (at >= 0) return parts[at + 1]?.startsWith("@") ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
  if (parts[0] === "src") return "src/ (ours)";
  return parts[0];
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
let raw = 0;
let gzip = 0;
const shares = new Map();
for (const [file, output] of bundles) {
  raw += output.bytes;
  gzip += gzipSync(readFileSync(file)).length;
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    shares.set(owner(input), (shares.get(owner(input)) ?? 0) + bytesInOutput);
  }
}

console.log(`bundle: ${kib(raw)} raw, ${kib(gzip)} gzip (${bundles.map(([file]) => file).join(", ")})`);
// esbuild's own glue (module wrappers, helpers) belongs to no input.
const attributed = [...shares.values()].reduce((sum, bytes) => sum + bytes, 0);
const rows = [...shares, ["(bundler glue)", raw - attributed]].sort((a, b) => b[1] - a[1]);
const width = Math.max(...rows.map(([name]) => name.length));
for (const [name, bytes] of rows) {
  console.log(`  ${name.padEnd(width)}  ${String(bytes).padStart(9)} B  ${((100 * bytes) / raw).toFixed(1).padStart(5)} %`);
}
