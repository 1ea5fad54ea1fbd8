// Our worker, frozen into one bundle for the whole run.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./constants.mjs";
import { log } from "./log.mjs";
import { buildBundle } from "./wrangler.mjs";

function git(args) {
  try {
    // --no-optional-locks: never take index.lock (someone else may be committing).
    return execFileSync("git", ["--no-optional-locks", ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 }).trim();
  } catch {
    return null;
  }
}

/**
 * Bundles our worker once (`wrangler deploy --dry-run`, which is also the bundle scenario) and
 * writes a copy of its wrangler config, in `tmp`, whose `main` is that bundle with
 * `no_bundle = true`. Every "ours" server runs the frozen bundle, so edits to src/ during the run
 * (wrangler dev would hot-reload them) cannot change or restart what is measured, and no .dev.vars
 * is picked up. With `ref`, the bundle is built from that git commit instead of the working tree
 * (git archive into `tmp`; node_modules linked). `oursConfig` replaces the project's wrangler.toml.
 * Resolves `{ config, sizes, source }`.
 */
export async function freezeOurs({ tmp, ref, oursConfig }) {
  let cwd = ROOT;
  let config = oursConfig ?? path.join(ROOT, "wrangler.toml");
  const source = { commit: git(["rev-parse", "HEAD"]) };
  if (ref) {
    const commit = git(["rev-parse", "--verify", `${ref}^{commit}`]);
    if (!commit) throw new Error(`--ref ${ref}: not a commit`);
    const dir = path.join(tmp, "source");
    fs.mkdirSync(dir);
    const tar = spawnSync("git", ["archive", "--format=tar", commit], { cwd: ROOT, maxBuffer: 1 << 30, timeout: 60_000 });
    if (tar.status !== 0) throw new Error(`git archive ${commit} failed`);
    const untar = spawnSync("tar", ["-x", "-C", dir], { input: tar.stdout, timeout: 60_000 });
    if (untar.status !== 0) throw new Error("tar -x failed");
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    cwd = dir;
    config = path.join(dir, path.relative(ROOT, config));
    Object.assign(source, { kind: "git", ref, commit });
  } else {
    const dirty = git(["status", "--porcelain", "--", "src", "wrangler.toml", "package.json", "package-lock.json"]);
    Object.assign(source, { kind: "working tree", uncommittedChanges: dirty ? dirty.split("\n").length : 0 });
  }
  const built = await buildBundle("ours", config, { tmp, cwd });
  if (!built.entry) throw new Error("the dry-run bundle has no .js entry");
  const frozenDir = path.join(tmp, "ours-config");
  fs.mkdirSync(frozenDir, { recursive: true });
  const frozenConfig = path.join(frozenDir, path.basename(config));
  fs.writeFileSync(frozenConfig, pointAtBundle(config, fs.readFileSync(config, "utf8"), built.entry));
  source.bundleSha256 = createHash("sha256").update(fs.readFileSync(built.entry)).digest("hex").slice(0, 16);
  log(`ours: frozen bundle ${source.bundleSha256} from ${source.kind === "git" ? `commit ${source.commit.slice(0, 12)}` : `the working tree at ${source.commit?.slice(0, 12) ?? "?"} (${source.uncommittedChanges} uncommitted file(s) under src/ and config)`}`);
  return { config: frozenConfig, sizes: built.sizes, source };
}

/** The wrangler config `text` (TOML or JSON, after `file`'s name) with `main` = `entry`, unbundled. */
function pointAtBundle(file, text, entry) {
  if (/\.toml$/.test(file)) {
    if (!/^main\s*=.*$/m.test(text)) throw new Error(`${file} has no top-level main = ...`);
    return text.replace(/^main\s*=.*$/m, `main = ${JSON.stringify(entry)}\nno_bundle = true`);
  }
  if (!/"main"\s*:\s*"[^"]*"/.test(text)) throw new Error(`${file} has no "main"`);
  return text.replace(/"main"\s*:\s*"[^"]*"/, `"main": ${JSON.stringify(entry)}, "no_bundle": true`);
}
