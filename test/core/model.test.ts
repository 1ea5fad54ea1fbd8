import { describe, expect, it } from "vitest";
import { actionToText, actionsPayloadFromDict, mergePayloads, payloadToText } from "../../src/session/model";

describe("model (SDK wire semantics)", () => {
  it("renders an action the way the Python SDK does, without the title", () => {
    const [a] = actionsPayloadFromDict({ actions: [{ title: "T", description: "desc", canonical_url: "/url", type: "click" }] }).actions;
    expect(actionToText(a!)).toBe("[0] click: desc \u2014 /url");
  });

  it("falls back to defaults for missing and falsy fields", () => {
    const p = actionsPayloadFromDict({ session_id: "", actions: [{ title: "t", description: "d", canonical_url: "/u" }] });
    expect(p.product_id).toBe("");
    expect(p.session_id).toBeNull();
    expect(p.forwarded_at).toBe(0);
    expect(p.actions[0]).toMatchObject({ index: 0, type: "", timestamp_start: 0, raw_url: "", user_id: null });
    expect(payloadToText(p).split("\n")[0]).toBe("Session unknown \u2014 1 actions");
  });

  it("merges batches in order, re-indexing without mutating the inputs", () => {
    const a = actionsPayloadFromDict({ product_id: "p", session_id: "s", forwarded_at: 5, actions: [{ index: 7, description: "a" }] });
    const b = actionsPayloadFromDict({ product_id: "q", session_id: "t", user_id: "u", forwarded_at: 9, actions: [{ index: 3, description: "b" }, { index: 4, description: "c" }] });
    const m = mergePayloads([a, b]);
    expect(m.actions.map((x) => [x.index, x.description])).toEqual([[0, "a"], [1, "b"], [2, "c"]]);
    expect(m).toMatchObject({ product_id: "p", session_id: "s", user_id: "u", forwarded_at: 9 });
    expect(a.actions[0]!.index).toBe(7);
    expect(() => mergePayloads([])).toThrow(/at least one/);
  });
});
