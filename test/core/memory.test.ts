/**
 * Memory's pure parts: how a question becomes an FTS5 query, reciprocal rank fusion, cosine, the
 * embeddings wire format (the body the `openai` SDK sends) and what its answers mean, the memory
 * lane in the plan (its own runner, its own backoff), and the settings.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { embeddingsRequest, readEmbeddings } from "../../src/product/memory/embeddings";
import { cosine, ftsMatch, fuseRankings, queryTerms, RRF_K } from "../../src/product/memory/ranking";
import { memoryFloor, MEMORY_MAX_LAG_WINDOWS } from "../../src/session/memorising";
import { laneOf, planRunner, runnersOf, type PlanInput } from "../../src/session/plan";

const EMBED = { model: "text-embedding-3-small", baseURL: "https://embed.test/v1/", apiKey: "k", timeoutMs: 100 };
const answered = (status: number, json: unknown, headers: Record<string, string> = {}) =>
  ({ kind: "answered", status, headers: new Headers(headers), text: JSON.stringify(json), json }) as const;

describe("questions as FTS5 queries", () => {
  it("keeps content words, drops stop words, quotes and ORs them", () => {
    expect(queryTerms("Did this user try to export invoices?")).toEqual(["export", "invoices"]);
    expect(ftsMatch("Did this user try to export invoices?")).toBe('"export" OR "invoices"');
    expect(ftsMatch('what "NEAR(x" OR * AND')).toBe('"near" OR "x"');
    expect(ftsMatch("What did they do?")).toBeNull();
    expect(ftsMatch("")).toBeNull();
    expect(queryTerms("Überweisung exportieren, Überweisung")).toEqual(["überweisung", "exportieren"]);
    expect(queryTerms(Array.from({ length: 50 }, (_, i) => `w${i}`).join(" "))).toHaveLength(32);
  });
});

describe("hybrid ranking", () => {
  it("fuses by reciprocal rank: found by both beats first in one", () => {
    const fused = fuseRankings([
      ["a", "b", "c"],
      ["b", "d"],
    ]);
    expect(fused.map((f) => f.id)).toEqual(["b", "a", "d", "c"]);
    expect(fused[0]!.score).toBeCloseTo(1 / (RRF_K + 2) + 1 / (RRF_K + 1));
    expect(fuseRankings([[], []])).toEqual([]);
  });

  it("cosine", () => {
    expect(cosine(Float32Array.from([1, 0]), Float32Array.from([2, 0]))).toBeCloseTo(1);
    expect(cosine(Float32Array.from([1, 0]), Float32Array.from([0, 3]))).toBeCloseTo(0);
    expect(cosine(Float32Array.from([0, 0]), Float32Array.from([1, 0]))).toBe(0);
    expect(cosine(Float32Array.from([1]), Float32Array.from([1, 0]))).toBe(0);
  });
});

describe("the embeddings wire format", () => {
  it("posts what the openai SDK posts, the key only when set", () => {
    const req = embeddingsRequest(EMBED, ["hello"]);
    expect(req).toMatchObject({ url: "https://embed.test/v1/embeddings", method: "POST" });
    expect(req.headers.authorization).toBe("Bearer k");
    expect(JSON.parse(req.body!)).toEqual({ model: "text-embedding-3-small", input: ["hello"], encoding_format: "float" });
    expect(embeddingsRequest({ ...EMBED, apiKey: null, baseURL: null }, ["x"])).toMatchObject({ url: "https://api.openai.com/v1/embeddings" });
    expect(embeddingsRequest({ ...EMBED, apiKey: null }, ["x"]).headers.authorization).toBeUndefined();
  });

  it("reads vectors in input order; a passing fault retries, a setup fault fails, no body in messages", () => {
    const ok = readEmbeddings(answered(200, { data: [{ index: 1, embedding: [0, 1] }, { index: 0, embedding: [1, 0] }] }), 2, 0);
    expect(ok.kind === "done" && ok.vectors.map((v) => [...v])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(readEmbeddings({ kind: "lost", why: "timed out" }, 1, 0)).toEqual({ kind: "retry", error: "embedder timed out" });
    expect(readEmbeddings(answered(503, { error: "secret detail" }), 1, 0)).toEqual({ kind: "retry", error: "embedder answered 503" });
    expect(readEmbeddings(answered(429, {}, { "retry-after": "2" }), 1, 0)).toEqual({ kind: "retry", error: "embedder answered 429", retryAfterMs: 2000 });
    expect(readEmbeddings(answered(401, {}), 1, 0)).toMatchObject({ kind: "failed", error: expect.stringContaining("EMBED_API_KEY") });
    expect(readEmbeddings(answered(200, { data: [] }), 1, 0)).toMatchObject({ kind: "retry" });
    expect(readEmbeddings(answered(200, { data: [{ embedding: ["x"] }] }), 1, 0)).toMatchObject({ kind: "retry" });
  });
});

describe("the memory lane", () => {
  const input = (over: Partial<PlanInput> = {}): PlanInput => ({
    now: 1_000,
    debounceMs: 0,
    debounceMaxMs: 0,
    lanes: [],
    flushAt: null,
    nextToSummarise: null,
    llmBlockedUntil: null,
    idleCloseAt: null,
    expireAt: null,
    steps: new Map(),
    ...over,
  });

  it("is its own runner: the oldest unsent summary, gated by its own backoff only", () => {
    expect(runnersOf({ lanes: [] })).toContain("memory");
    expect(laneOf("memory")).toBe("memory");
    expect(planRunner(input({ nextToMemorise: 3 }), "memory")).toEqual({ kind: "run", step: { kind: "memory", key: "memory:3", window: 3 } });
    expect(planRunner(input({ nextToMemorise: null }), "memory")).toEqual({ kind: "idle" });
    const backingOff = input({ nextToMemorise: 3, nextToSummarise: 4, steps: new Map([["memory:3", { attempts: 2, nextAttemptAt: 5_000, parked: false }]]) });
    expect(planRunner(backingOff, "memory")).toEqual({ kind: "wait", until: 5_000 });
    // The LLM lane does not wait for it.
    expect(planRunner(backingOff, "llm")).toMatchObject({ kind: "run", step: { kind: "summarise", window: 4 } });
  });

  it("keeps at most MEMORY_MAX_LAG_WINDOWS unsent summaries", () => {
    expect(memoryFloor(0, 5)).toBe(0);
    expect(memoryFloor(0, 100)).toBe(100 - MEMORY_MAX_LAG_WINDOWS);
    expect(memoryFloor(90, 100)).toBe(90);
  });
});

describe("memory settings", () => {
  it("MEMORY on by default; vectors only with EMBED_MODEL, base URL and key defaulting to the LLM's", () => {
    const core = (vars: Record<string, string>) => {
      const c = parseConfig(vars).core;
      if (c instanceof Error) throw c;
      return c;
    };
    expect(core({})).toMatchObject({ memory: true, embed: null });
    expect(core({ MEMORY: "off" }).memory).toBe(false);
    expect(parseConfig({ MEMORY: "maybe" }).core).toMatchObject({ setting: "MEMORY" });
    expect(core({ EMBED_MODEL: "m", LLM_BASE_URL: "https://llm.test/v1", LLM_API_KEY: "llm-key" }).embed).toEqual({
      model: "m",
      baseURL: "https://llm.test/v1",
      apiKey: "llm-key",
      timeoutMs: 20_000,
    });
    expect(core({ EMBED_MODEL: "m", EMBED_BASE_URL: "https://e/v1", EMBED_API_KEY: "e", LLM_API_KEY: "l" }).embed).toMatchObject({ baseURL: "https://e/v1", apiKey: "e" });
  });
});
