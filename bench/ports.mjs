// Ports for our servers come from below the kernel's ephemeral range, so no process binding port 0
// (workerd's internal sockets, the fakes, other tests on this machine) can take one between our
// check and wrangler's bind. Each port is handed out once per run.
import fs from "node:fs";
import net from "node:net";
import { HOST } from "./constants.mjs";

const usedPorts = new Set();
const EPHEMERAL_LOW = (() => {
  try {
    return Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();

function canBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

export async function freePort() {
  const lo = 20_000;
  const hi = Math.max(lo + 1_000, Math.min(EPHEMERAL_LOW, 32_768) - 1);
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (usedPorts.has(port)) continue;
    usedPorts.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port found in ${lo}-${hi}`);
}
