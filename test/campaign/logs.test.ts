import { afterEach, describe, expect, it, vi } from "vitest";
import { runSeed } from "./driver";

afterEach(() => vi.restoreAllMocks());

const STEP_EVENTS = new Set(["step:done", "step:retry", "step:parked"]);

describe("structured logs under faults", () => {
  it("every step logs one JSON line with actor, kind, outcome, attempt and latency; no action text, summary or secret", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    for (const seed of [7, 8, 9]) expect((await runSeed(20_000 + seed)).violations).toEqual([]);
    vi.restoreAllMocks();

    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = events.filter((e) => STEP_EVENTS.has(String(e.event)));
    expect(steps.length).toBeGreaterThan(50);
    const outcomes = new Set(steps.map((e) => e.outcome));
    expect(outcomes).toContain("done");
    expect(outcomes).toContain("retry");
    for (const e of steps) {
      expect(e).toMatchObject({
        actor: expect.stringMatching(/^p-(alpha|beta):c\d+-\d/),
        kind: expect.stringMatching(/^(deliver|summarise|post-summary|redact|close-idle|index|memory)$/),
        key: expect.any(String),
        outcome: String(e.event).slice("step:".length),
        attempt: expect.any(Number),
        latency_ms: expect.any(Number),
      });
      if (e.outcome !== "done") expect(e).toMatchObject({ error: expect.any(String), retry_in_ms: expect.any(Number) });
    }
    const all = lines.join("\n");
    for (const secret of ["tok-", "opened ", "covers:[", "The user went", "whsec_", "Bearer", "test-api-token"]) expect(all).not.toContain(secret);
  });
});
