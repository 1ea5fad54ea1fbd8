import { describe, expect, it } from "vitest";
import { ConfigError, parseCore } from "../../src/config";

describe("resilience settings", () => {
  it("defaults: idle 30 minutes, retention 7 days, breaker 5 failures and a 60 s pause", () => {
    const c = parseCore({});
    expect(c.idleMs).toBe(30 * 60_000);
    expect(c.retentionMs).toBe(7 * 24 * 60 * 60_000);
    expect(c.llm.breakerFailures).toBe(5);
    expect(c.llm.breakerPauseMs).toBe(60_000);
  });

  it("reads integers, digit separators included", () => {
    const c = parseCore({
      SESSION_IDLE_MS: "60_000",
      SESSION_RETENTION_MS: "86400000",
      LLM_BREAKER_FAILURES: "3",
      LLM_BREAKER_PAUSE_MS: "10_000",
    });
    expect([c.idleMs, c.retentionMs, c.llm.breakerFailures, c.llm.breakerPauseMs]).toEqual([60_000, 86_400_000, 3, 10_000]);
  });

  it.each([
    ["SESSION_IDLE_MS", "soon"],
    ["SESSION_IDLE_MS", "10"],
    ["SESSION_RETENTION_MS", "1.5"],
    ["LLM_BREAKER_FAILURES", "0"],
    ["LLM_BREAKER_PAUSE_MS", "-1"],
  ])("rejects %s=%s naming the setting", (name, value) => {
    expect(() => parseCore({ [name]: value })).toThrow(ConfigError);
    expect(() => parseCore({ [name]: value })).toThrow(name);
  });

  it("refuses a retention that would erase a session before its idle window closes", () => {
    expect(() => parseCore({ SESSION_IDLE_MS: "3600000", SESSION_RETENTION_MS: "3600000" })).toThrow(/SESSION_RETENTION_MS .* longer than SESSION_IDLE_MS/);
  });
});
