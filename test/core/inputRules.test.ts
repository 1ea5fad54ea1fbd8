/** The one id rule (src/http/ids.ts) and the timestamp clamps of `slimActionFromDict`. */
import { describe, expect, it } from "vitest";
import { idProblem, isConversationId, isProductId } from "../../src/http/ids";
import { slimActionFromDict } from "../../src/session/model";

describe("ids", () => {
  it.each([
    ["", "must not be empty"],
    ["x".repeat(257), "must be at most 256 characters"],
    ["a\ud800", "must be well-formed Unicode (no lone surrogate)"],
    ["\udc00a", "must be well-formed Unicode (no lone surrogate)"],
    ["a\u0000", "must not contain control characters"],
    ["a\u007f", "must not contain control characters"],
    ["a\u009f", "must not contain control characters"],
    [".", "must not be '.' or '..'"],
    ["..", "must not be '.' or '..'"],
  ])("refuses %j: %s", (id, problem) => {
    expect(idProblem(id)).toBe(problem);
  });

  it("accepts ordinary ids, paired surrogates and '...'", () => {
    for (const id of ["ps_abc123", "0195b4a2-7c1e-7d3a-9f00-3c2b1a0e9d11", "user 😀", "...", "a/b", "x".repeat(256)]) expect(idProblem(id)).toBeNull();
  });

  it("product and conversation ids keep their narrow alphabets, without '.' and '..'", () => {
    expect([isProductId("acme.io"), isProductId(".."), isProductId("a:b")]).toEqual([true, false, false]);
    expect([isConversationId("C01:1700000000.0001"), isConversationId(".."), isConversationId("../../admins")]).toEqual([true, false, false]);
  });
});

describe("timestamps", () => {
  const times = (raw: Record<string, unknown>) => {
    const a = slimActionFromDict(raw);
    return [a.timestamp_start, a.timestamp_end];
  };

  it("reads a negative time as missing, clamps an end before its start to the start, and leaves a missing end 0", () => {
    expect(times({ timestamp_start: -1, timestamp_end: -2 })).toEqual([0, 0]);
    expect(times({ timestamp_start: 10, timestamp_end: 5 })).toEqual([10, 10]);
    expect(times({ timestamp_start: 10 })).toEqual([10, 0]);
    expect(times({ timestamp_start: 10, timestamp_end: 12 })).toEqual([10, 12]);
  });
});
