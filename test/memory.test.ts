/**
 * Memory with vectors: summaries embedded through an OpenAI-compatible `/v1/embeddings` (a fake
 * server behind `fetch` that checks the request shape the `openai` SDK sends) and kept in the
 * product's SQLite with the text, searched by BM25 and cosine fused by reciprocal rank; each
 * summary indexed exactly once under eviction and duplicate alarms; a failing embedder parks the
 * memory step alone (notes delivered, summarised and redacted meanwhile) and it recovers; erasing
 * a session removes its vectors with its text.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { action, ageLastAction, auth, behindActor, getState, makeStepsDue, postActions, request, sessionPath, settle, sqlRows, stubFor, uniqueSession } from "./helpers/api";
import { laneProblems, webhookLog } from "./helpers/laneLog";
import { entry, memoryRows, remember, search } from "./helpers/memory";
import { crash, retryAlarm } from "./helpers/platform";
import { projectSecrets, putSettings } from "./helpers/products";
import { createWorld, type World } from "./world";

/** Words the fake model treats as one meaning (so a vector can find what no word matches). */
const SYNONYMS: Record<string, string> = { bill: "invoice", bills: "invoice", invoices: "invoice", downloaded: "export", exported: "export" };
const DIMS = 64;

function fakeVector(text: string): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const raw of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    const word = SYNONYMS[raw] ?? raw;
    let h = 0;
    for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    v[h % DIMS]! += 1;
  }
  return v;
}

/** The fake embeddings server: checks every request's shape, answers bag-of-words vectors, or fails as told. */
const embedder = {
  failing: false,
  requests: [] as { auth: string | null; body: unknown }[],
  problems: [] as string[],
  async handle(req: Request): Promise<Response> {
    const body = (await req.json()) as { model?: unknown; input?: unknown; encoding_format?: unknown };
    this.requests.push({ auth: req.headers.get("authorization"), body });
    if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/embeddings") this.problems.push(`${req.method} ${req.url}`);
    if (req.headers.get("content-type") !== "application/json") this.problems.push("content-type");
    const input = body.input;
    if (body.model !== "text-embedding-3-small" || !Array.isArray(input) || !input.every((t) => typeof t === "string") || body.encoding_format !== "float") {
      this.problems.push(`body ${JSON.stringify(body)}`);
    }
    if (this.failing) return new Response(JSON.stringify({ error: { message: "overloaded" } }), { status: 503 });
    const data = (input as string[]).map((t, index) => ({ object: "embedding", index, embedding: fakeVector(t) }));
    return Response.json({ object: "list", data, model: "text-embedding-3-small", usage: { prompt_tokens: 1, total_tokens: 1 } });
  },
};

let world: World;
beforeEach(() => {
  world = createWorld({ secret: projectSecrets.WEBHOOK_SECRET_B });
  embedder.failing = false;
  embedder.requests = [];
  embedder.problems = [];
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    const req = new Request(input, init);
    return new URL(req.url).host === "embed.test" ? embedder.handle(req) : world.fetch(req);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  expect(embedder.problems).toEqual([]);
  expect(world.violations).toEqual([]);
});

const webhook = { type: "webhook", url: "https://hooks.test/memory", secret: { env: "WEBHOOK_SECRET_B" } };
const K = 4;

/** A product writing to the webhook with K = 4, and one session of it. */
async function start(prefix: string) {
  const p = uniqueSession(prefix);
  const s = uniqueSession();
  expect((await putSettings(p, { threshold: K, destinations: [webhook] })).status).toBe(200);
  let n = 0;
  return {
    p,
    s,
    async windowOf(userId = "u-1") {
      const res = await postActions({ type: "actions", product_id: p, session_id: s, user_id: userId, actions: Array.from({ length: K }, () => action(n++)) });
      expect(res.status).toBe(202);
    },
    epoch: async () => (await sqlRows<{ epoch: string }>(p, s, "SELECT epoch FROM session"))[0]!.epoch,
    log: () => webhookLog(world, `${p}:${s}`),
  };
}

describe("vectors through an OpenAI-compatible embedder", () => {
  it("embeds each summary with the SDK's request shape; hybrid search finds by meaning what no word matches", async () => {
    const p = uniqueSession("hybrid");
    await remember(
      p,
      entry("The user downloaded all bills of last year.", { user_id: "u-1" }),
      entry("The user changed the notification settings.", { user_id: "u-1" }),
      entry("The user opened the invoice page.", { user_id: "u-2" }),
    );
    expect(embedder.requests).toHaveLength(3);
    expect(embedder.requests[0]).toEqual({
      auth: "Bearer test-embed-key",
      body: { model: "text-embedding-3-small", input: ["The user downloaded all bills of last year."], encoding_format: "float" },
    });
    expect((await memoryRows(p)).vectors).toBe(3);

    const { body } = await search(p, { q: "did they export invoices?" });
    expect(body.ranking).toBe("hybrid");
    // "bills" and "downloaded" share no word with the question: only the vectors find it; both rankings put it or the invoice page first.
    expect(body.results.map((r) => r.summary).slice(0, 2).sort()).toEqual(["The user downloaded all bills of last year.", "The user opened the invoice page."]);
    expect(body.results[0]!.score).toBeGreaterThan(0);
    // The query was embedded too; the user filter holds for vectors as for text.
    expect(embedder.requests.at(-1)!.body).toMatchObject({ input: ["did they export invoices?"] });
    expect((await search(p, { q: "did they export invoices?", user_id: "u-2" })).body.results.map((r) => r.summary)).toEqual(["The user opened the invoice page."]);
  });

  it("a query the embedder cannot embed now still answers, by text", async () => {
    const p = uniqueSession("fallback");
    await remember(p, entry("The user opened the invoice page."));
    embedder.failing = true;
    const { body } = await search(p, { q: "invoice" });
    expect(body).toMatchObject({ memory: "on", ranking: "fts", results: [{ summary: "The user opened the invoice page." }] });
  });
});

describe("the memory step, with an embedder", () => {
  it("failing for a while parks alone: notes are delivered, summarised and redacted; then it recovers, each summary once", async () => {
    const x = await start("failing");
    embedder.failing = true;
    for (let w = 0; w < 3; w++) {
      await x.windowOf();
      await settle(x.p, x.s);
    }
    // Minutes pass: the memory step tries again and parks (STEP_MAX_ATTEMPTS=2); it alone.
    await makeStepsDue(x.p, x.s);
    await settle(x.p, x.s);
    const log = x.log();
    expect(laneProblems(log)).toEqual([]);
    expect(log.notes.filter((n) => n.kind === "summary").length).toBeGreaterThanOrEqual(1);
    expect(log.notes.filter((n) => n.kind === "raw").every((n) => n.redacted)).toBe(true);
    const parked = (await getState(x.p, x.s)).body;
    expect(parked.steps).toEqual([expect.objectContaining({ key: "memory:1", kind: "memory", parked: true, attempts: 2, last_error: "embedder answered 503" })]);
    expect((await memoryRows(x.p)).ids).toEqual([]);

    embedder.failing = false;
    expect((await request(sessionPath(x.p, x.s, "/flush"), { method: "POST", headers: auth })).status).toBe(202);
    await makeStepsDue(x.p, x.s);
    await settle(x.p, x.s);
    const epoch = await x.epoch();
    expect(await memoryRows(x.p)).toEqual({ ids: [1, 2, 3].map((w) => `${x.s}:${epoch}:${w}`), fts: 3, vectors: 3 });
    expect((await getState(x.p, x.s)).body.steps).toEqual([]);
  });

  it("exactly once under eviction and duplicate alarms", async () => {
    const x = await start("once");
    await x.windowOf("u-5");
    await settle(x.p, x.s);
    const epoch = await x.epoch();
    const id = `${x.s}:${epoch}:1`;
    expect((await memoryRows(x.p)).ids).toEqual([id]);
    const sent = embedder.requests.length;

    // The answer was lost (evicted after the product wrote, before the session recorded it): it is sent again, under the same id.
    await behindActor(x.p, x.s, (sql) => void sql.exec("UPDATE session SET memorised_window = 0"));
    await crash(x.p, x.s);
    await retryAlarm(x.p, x.s);
    // Duplicate alarms: two runs at once, then another.
    await Promise.all([runDurableObjectAlarm(stubFor(x.p, x.s)), runDurableObjectAlarm(stubFor(x.p, x.s))]);
    await retryAlarm(x.p, x.s);
    await settle(x.p, x.s);
    expect(embedder.requests.length).toBeGreaterThan(sent);
    expect(await memoryRows(x.p)).toEqual({ ids: [id], fts: 1, vectors: 1 });
    expect((await search(x.p, { q: "steps", user_id: "u-5" })).body.results).toHaveLength(1);
  });

  it("erasing a session removes its text and its vectors, and only its", async () => {
    const x = await start("erase");
    await x.windowOf();
    await settle(x.p, x.s);
    await remember(x.p, entry("Another session of the product exported invoices."));
    expect(await memoryRows(x.p)).toMatchObject({ fts: 2, vectors: 2 });
    expect((await request(sessionPath(x.p, x.s), { method: "DELETE", headers: auth })).status).toBe(204);
    const rows = await memoryRows(x.p);
    expect(rows).toMatchObject({ fts: 1, vectors: 1 });
    expect(rows.ids.some((i) => i.startsWith(x.s))).toBe(false);
    expect((await search(x.p, { q: "steps" })).body.results.every((r) => r.session_id !== x.s)).toBe(true);
  });

  it("retention: an expired session's entries go with it", async () => {
    const x = await start("expire");
    await x.windowOf();
    await settle(x.p, x.s);
    expect((await memoryRows(x.p)).fts).toBe(1);
    const DAY_MS = 24 * 60 * 60_000;
    await behindActor(x.p, x.s, (sql) => ageLastAction(sql, 8 * DAY_MS));
    await makeStepsDue(x.p, x.s);
    await runDurableObjectAlarm(stubFor(x.p, x.s));
    expect(await stubFor(x.p, x.s).state()).toBeNull();
    expect(await memoryRows(x.p)).toEqual({ ids: [], fts: 0, vectors: 0 });
  });
});
