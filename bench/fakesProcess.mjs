// bench/fakes.mjs as a child process (so its work does not share the driver's event loop), and
// the client for its /__fake/* control routes.
import path from "node:path";
import { BENCH_DIR } from "./constants.mjs";
import { getJson, postJson } from "./client.mjs";
import { spawnGroup } from "./processes.mjs";

/** Starts the fakes and resolves once they print their ports. */
export async function startFakes(tmp) {
  // stdin stays open: the fakes stop when it closes, i.e. when this process goes away.
  const child = spawnGroup("fakes", process.execPath, [path.join(BENCH_DIR, "fakes.mjs")], { logFile: path.join(tmp, "fakes.log"), pipeStdout: true, stdin: "pipe" });
  const ports = await new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("fakes did not start within 15 s")), 15_000);
    child.stdout.on("data", (c) => {
      buf += c;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (e) {
          reject(e);
        }
      }
    });
    child.exited.then(() => reject(new Error("fakes exited at startup")));
  });
  child.stdout.resume();
  return {
    child,
    ports,
    /** Sets how long the destination and the LLM wait before they answer. */
    async setLatency(destinationMs, llmMs) {
      for (const [which, latencyMs] of [["destination", destinationMs], ["llm", llmMs]]) {
        const r = await postJson(ports[which], "/__fake/config", { latencyMs });
        if (r.status !== 200) throw new Error(`fake ${which} config: ${r.status}`);
      }
    },
    /** Clears both fakes' counters and records. */
    async reset() {
      await postJson(ports.destination, "/__fake/reset", {});
      await postJson(ports.llm, "/__fake/reset", {});
    },
    async stats(which) {
      return (await getJson(ports[which], "/__fake/stats")).json;
    },
    async records(which) {
      return (await getJson(ports[which], "/__fake/records")).json ?? [];
    },
  };
}
