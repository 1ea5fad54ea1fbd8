import { describe, expect, it } from "vitest";
import {
  admit,
  blockedUntil,
  CircuitBreaker,
  CLOSED,
  probeLeaseMs,
  record,
  sharedBreaker,
  viewOf,
  type BreakerSettings,
  type BreakerState,
} from "../../src/llm/breaker";

const settings: BreakerSettings = { failureThreshold: 3, pauseMs: 60_000, probeLeaseMs: 21_000 };
const T0 = 1_000_000;

function failTimes(b: CircuitBreaker, n: number, now = T0): void {
  for (let i = 0; i < n; i++) {
    const ticket = b.tryAcquire(now);
    if (!ticket) throw new Error(`call ${i} was not admitted`);
    b.record(ticket, "failure", now);
  }
}

describe("circuit breaker transitions (pure)", () => {
  it("stays closed below the threshold and counts consecutive failures only", () => {
    let s: BreakerState = CLOSED;
    s = record(s, { probe: null }, "failure", T0, settings);
    s = record(s, { probe: null }, "failure", T0, settings);
    expect(s).toEqual({ kind: "closed", failures: 2 });
    s = record(s, { probe: null }, "success", T0, settings);
    expect(s).toEqual(CLOSED);
    s = record(s, { probe: null }, "failure", T0, settings);
    expect(s).toEqual({ kind: "closed", failures: 1 });
  });

  it("opens at the threshold for exactly the pause", () => {
    let s: BreakerState = { kind: "closed", failures: 2 };
    s = record(s, { probe: null }, "failure", T0, settings);
    expect(s).toEqual({ kind: "open", failures: 3, until: T0 + 60_000, lastProbe: 0 });
    expect(blockedUntil(s, T0)).toBe(T0 + 60_000);
    expect(blockedUntil(s, T0 + 59_999)).toBe(T0 + 60_000);
    expect(blockedUntil(s, T0 + 60_000)).toBeNull();
  });

  it("refuses calls while open, then admits exactly one probe", () => {
    const open: BreakerState = { kind: "open", failures: 3, until: T0 + 60_000, lastProbe: 0 };
    expect(admit(open, T0 + 1, settings).ticket).toBeNull();
    const first = admit(open, T0 + 60_000, settings);
    expect(first.ticket).toEqual({ probe: 1 });
    expect(first.state).toEqual({ kind: "half-open", failures: 3, probe: 1, leaseUntil: T0 + 60_000 + 21_000 });
    const second = admit(first.state, T0 + 60_001, settings);
    expect(second.ticket).toBeNull();
    expect(blockedUntil(first.state, T0 + 60_001)).toBe(T0 + 81_000);
  });

  it("a probe's success closes; its failure re-opens for another pause", () => {
    const half: BreakerState = { kind: "half-open", failures: 3, probe: 1, leaseUntil: T0 + 21_000 };
    expect(record(half, { probe: 1 }, "success", T0 + 5, settings)).toEqual(CLOSED);
    expect(record(half, { probe: 1 }, "failure", T0 + 5, settings)).toEqual({ kind: "open", failures: 4, until: T0 + 5 + 60_000, lastProbe: 1 });
  });

  it("a late failure from a call admitted before the breaker opened does not re-open a probing breaker", () => {
    const half: BreakerState = { kind: "half-open", failures: 3, probe: 2, leaseUntil: T0 + 21_000 };
    expect(record(half, { probe: null }, "failure", T0, settings)).toEqual({ ...half, failures: 4 });
    expect(record(half, { probe: 1 }, "failure", T0, settings)).toEqual({ ...half, failures: 4 });
    const open: BreakerState = { kind: "open", failures: 3, until: T0 + 60_000, lastProbe: 0 };
    expect(record(open, { probe: null }, "failure", T0 + 10, settings)).toEqual({ ...open, failures: 4 });
  });

  it("a probe that never reports (its actor was evicted) gives way to a new probe after its lease", () => {
    const half: BreakerState = { kind: "half-open", failures: 3, probe: 1, leaseUntil: T0 + 21_000 };
    expect(admit(half, T0 + 20_999, settings).ticket).toBeNull();
    const next = admit(half, T0 + 21_000, settings);
    expect(next.ticket).toEqual({ probe: 2 });
    expect(next.state).toEqual({ kind: "half-open", failures: 3, probe: 2, leaseUntil: T0 + 42_000 });
  });

  it("shows state, failures and until as ISO time", () => {
    expect(viewOf(CLOSED)).toEqual({ state: "closed", failures: 0, open_until: null });
    expect(viewOf({ kind: "open", failures: 5, until: Date.UTC(2026, 0, 1), lastProbe: 0 })).toEqual({
      state: "open",
      failures: 5,
      open_until: "2026-01-01T00:00:00.000Z",
    });
  });

  it("leases a probe for the LLM timeout plus a margin of at most a second", () => {
    expect(probeLeaseMs(150)).toBe(300);
    expect(probeLeaseMs(20_000)).toBe(21_000);
  });
});

describe("CircuitBreaker (shared instance)", () => {
  it("walks closed → open → half-open → closed with one probe among many sessions", () => {
    const b = new CircuitBreaker(settings);
    failTimes(b, 3);
    expect(b.view().state).toBe("open");
    // Ten sessions wake when the pause ends: one probes, the others wait for the probe's lease.
    const tickets = Array.from({ length: 10 }, () => b.tryAcquire(T0 + 60_000));
    expect(tickets.filter((t) => t !== null)).toEqual([{ probe: 1 }]);
    expect(b.blockedUntil(T0 + 60_000)).toBe(T0 + 81_000);
    b.record(tickets[0]!, "success", T0 + 60_100);
    expect(b.view()).toEqual({ state: "closed", failures: 0, open_until: null });
    expect(b.tryAcquire(T0 + 60_100)).toEqual({ probe: null });
  });

  it("re-opens when the probe fails, and probes again after the next pause", () => {
    const b = new CircuitBreaker(settings);
    failTimes(b, 3);
    const probe = b.tryAcquire(T0 + 60_000)!;
    b.record(probe, "failure", T0 + 60_050);
    expect(b.state).toEqual({ kind: "open", failures: 4, until: T0 + 120_050, lastProbe: 1 });
    expect(b.tryAcquire(T0 + 120_049)).toBeNull();
    const second = b.tryAcquire(T0 + 120_050)!;
    expect(second).toEqual({ probe: 2 });
    // The first probe answering late (it outlived its lease) cannot decide for the second.
    b.record(probe, "failure", T0 + 120_060);
    expect(b.view().state).toBe("half-open");
    b.record(second, "success", T0 + 120_070);
    expect(b.view().state).toBe("closed");
  });

  it("is one instance per isolate, reconfigured by later callers, and resettable", () => {
    const a = sharedBreaker(settings);
    const b = sharedBreaker({ ...settings, failureThreshold: 1 });
    expect(b).toBe(a);
    a.reset();
    failTimes(a, 1);
    expect(a.view().state).toBe("open");
    a.reset();
    expect(a.view().state).toBe("closed");
  });
});
