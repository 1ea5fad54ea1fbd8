import { describe, expect, it } from "vitest";
import { parseCore } from "../../src/config";
import { done, failed, held, retry } from "../../src/result";
import { migrate } from "../../src/session/migrations";
import { SessionStore } from "../../src/session/sessionStore";
import { settle } from "../../src/session/steps/settle";
import type { StepDeps, StepOutcome } from "../../src/session/steps/stepDeps";
import { createNodeStorage } from "./support/nodeStorage";

const NOW = 1_700_000_000_000;

function harness() {
  const storage = createNodeStorage();
  migrate(storage);
  const store = new SessionStore(storage);
  store.createSession("p", "s", "e1", NOW);
  const logs: string[] = [];
  const deps = {
    store,
    config: parseCore({ STEP_MAX_ATTEMPTS: "2" }),
    now: () => NOW,
    random: () => 0,
    log: (event: string, fields?: Record<string, unknown>) => void logs.push(`${event} ${JSON.stringify(fields)}`),
  } as unknown as StepDeps;
  const run = (outcome: StepOutcome, s = store.session()!) => settle(deps, s, { kind: "summarise" }, outcome, NOW - 5);
  return { storage, store, logs, run };
}

describe("settle: the one path every step result takes", () => {
  it("done commits the step's writes, drops its row and logs step:done", () => {
    const { store, logs, run } = harness();
    run({ key: "summarise:1", result: retry("503") });
    run({ key: "summarise:1", result: done(), onDone: () => store.bump("summaries") });
    expect(store.step("summarise:1")).toBeNull();
    expect(store.session()).toMatchObject({ summaries: 1, step_failures: 1 });
    expect(logs.at(-1)).toBe('step:done {"kind":"summarise","key":"summarise:1","attempt":2,"latency_ms":5,"outcome":"done"}');
  });

  it("a held step waits exactly until its time, and is neither an attempt nor a failure", () => {
    const { store, logs, run } = harness();
    run({ key: "summarise:1", result: retry("503") });
    run({ key: "summarise:1", result: held(NOW + 60_000, "breaker"), onFailure: () => store.bump("llm_failures") });
    expect(store.step("summarise:1")).toMatchObject({ attempts: 1, next_attempt_at: NOW + 60_000, last_error: "held by breaker", parked_at: null });
    expect(store.session()).toMatchObject({ step_failures: 1, llm_failures: 0 });
    expect(logs.at(-1)).toBe(`llm:held {"kind":"summarise","key":"summarise:1","until":"${new Date(NOW + 60_000).toISOString()}"}`);
  });

  it("a retry counts an attempt and backs off; a paced one waits as told without counting; the last attempt parks", () => {
    const { store, logs, run } = harness();
    run({ key: "summarise:1", result: retry("429", { retryAfterMs: 30_000, rateLimited: true }), onFailure: () => store.bump("llm_failures") });
    expect(store.step("summarise:1")).toMatchObject({ attempts: 0, next_attempt_at: NOW + 30_000, parked_at: null });
    run({ key: "summarise:1", result: retry("503") });
    expect(store.step("summarise:1")).toMatchObject({ attempts: 1, next_attempt_at: NOW + 1_000 });
    run({ key: "summarise:1", result: retry("503"), logError: "threw Error" });
    expect(store.step("summarise:1")).toMatchObject({ attempts: 2, parked_at: NOW });
    expect(store.session()).toMatchObject({ step_failures: 3, llm_failures: 1 });
    expect(logs.at(-1)).toMatch(/^step:parked \{"kind":"summarise","key":"summarise:1","attempt":2,"latency_ms":5,"outcome":"parked","error":"threw Error","retry_in_ms":\d+\}$/);
  });

  it("a permanent failure parks at once", () => {
    const { store, run } = harness();
    run({ key: "summarise:1", result: failed("401") });
    expect(store.step("summarise:1")).toMatchObject({ attempts: 1, last_error: "401", parked_at: NOW });
  });

  it("a result for a session erased and begun again while the step was out is discarded", () => {
    const { storage, store, logs, run } = harness();
    const before = store.session()!;
    storage.sql.exec("DELETE FROM session");
    store.createSession("p", "s", "e2", NOW);
    run({ key: "summarise:1", result: done(), onDone: () => store.bump("summaries") }, before);
    expect(store.session()).toMatchObject({ epoch: "e2", summaries: 0 });
    expect(logs.at(-1)).toContain('"discarded":true');
  });
});
