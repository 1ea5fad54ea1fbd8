// N SSE subscribers of one product's stream in a child process of their own, so their reading
// does not share the load driver's event loop: `openSubscribers` forks this file, which connects,
// says it is ready, and on request reports its frame counts and when it saw each probe (wall-clock
// ms, comparable across processes). It exits when its parent goes away.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { subscribe } from "./sseSubscriber.mjs";

const wallMs = () => performance.timeOrigin + performance.now();

/** Forks the subscribers; resolves once all `count` are connected. */
export async function openSubscribers(port, product, count) {
  const child = fork(fileURLToPath(import.meta.url), [String(port), product, String(count)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const next = () =>
    new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`the subscribers exited (${code})`));
      child.once("exit", onExit);
      child.once("message", (m) => {
        child.off("exit", onExit);
        if (m.error) reject(new Error(m.error));
        else resolve(m);
      });
    });
  await next();
  return {
    /** Frame counts per subscriber and when each probe title was first seen. */
    async report() {
      const reply = next();
      child.send("report");
      return reply;
    },
    async close() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send("close");
      await exited;
    },
  };
}

async function main([port, product, count]) {
  const seen = new Map();
  const subs = await Promise.all(Array.from({ length: Number(count) }, () => subscribe(Number(port), product, (title) => seen.has(title) || seen.set(title, wallMs()))));
  process.send({ ready: true });
  process.on("message", async (m) => {
    if (m === "report") process.send({ counts: subs.map((s) => ({ ...s.counts })), seen: [...seen] });
    if (m === "close") {
      await Promise.all(subs.map((s) => s.close()));
      process.exit(0);
    }
  });
  process.on("disconnect", () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    process.send?.({ error: String(err.message ?? err) });
    process.exit(1);
  });
}
