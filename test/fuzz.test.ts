/**
 * Property-based fuzz of every route (fast-check): generated bodies, headers and ids
 * (test/fuzz/requests.ts) never get a 5xx, every refusal is our error shape, and every 4xx leaves
 * the sessions it names exactly as they were. Needs the "fuzz" project's bindings: FUZZ_RUNS (how
 * many requests; `.ci/run` asks for more than `npm test`), PUBLISHABLE_KEYS and LINK_ALLOWED_ORIGINS.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect, it } from "vitest";
import { anyRequest, PRODUCT, type FuzzRequest } from "./fuzz/requests";
import { auth, request, sessionPath } from "./helpers/api";

const RUNS = Number((env as unknown as Record<string, string>).FUZZ_RUNS);

/**
 * What a request may change about a session: whether it exists, what was ingested, its link.
 * Alarm-driven fields (notes, steps, summaries) are left out: alarms run during the fuzz too.
 */
async function applied(sessionId: string): Promise<string> {
  const res = await request(sessionPath(PRODUCT, sessionId), { headers: auth });
  if (res.status === 404) return (await res.body?.cancel(), "absent");
  const state = (await res.json()) as { counters: Record<string, number>; link: { conversation_id: string } | null };
  const { actions_accepted, batches_accepted, duplicates } = state.counters;
  return JSON.stringify({ actions_accepted, batches_accepted, duplicates, link: state.link?.conversation_id ?? null });
}

async function send(r: FuzzRequest): Promise<Response> {
  return request(r.path, { method: r.method, headers: r.headers, ...(r.body === undefined ? {} : { body: r.body }) });
}

it(`no route answers 5xx, and a 4xx changes nothing (${RUNS} generated requests)`, { timeout: 1_800_000 }, async () => {
  expect(RUNS).toBeGreaterThan(0);
  const routes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(anyRequest, async (r) => {
      const before = await Promise.all(r.touched.map(applied));
      const res = await send(r);
      const text = await res.text();
      routes.set(r.route, (routes.get(r.route) ?? 0) + 1);
      expect(res.status, `${r.method} ${r.path}: ${text}`).toBeLessThan(500);
      if (res.status < 400) return;
      // MCP speaks JSON-RPC past our auth: its refusals are JSON-RPC errors (code -32xxx), as clients expect.
      const shape = r.route === "POST /mcp" && ![401, 403].includes(res.status) ? { jsonrpc: "2.0", error: { code: expect.any(Number), message: expect.any(String) } } : { error: { code: expect.any(String), message: expect.any(String) } };
      expect(JSON.parse(text), `${r.method} ${r.path}: ${text}`).toMatchObject(shape);
      expect(await Promise.all(r.touched.map(applied)), `${r.method} ${r.path} answered ${res.status} ${text}`).toEqual(before);
    }),
    { numRuns: RUNS },
  );
  // Every route group was reached.
  expect([...routes.keys()].filter((route) => !route.startsWith("GET /")).length + 1).toBeGreaterThanOrEqual(6);
});
