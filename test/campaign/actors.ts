/**
 * What the campaign does to actors as the platform would: fire their alarm with
 * `runDurableObjectAlarm` (workerd fires due alarms by itself too), retry a run that a crash cut
 * short, evict them gracefully, crash them at any await, and read atomic snapshots. Every await on
 * an actor goes through `settle`, which aborts actors whose requests hang on a crash fault, so a
 * crash lands exactly at that await.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { forgetReads, stubFor } from "../helpers/api";
import { crash, retryAlarm } from "../helpers/platform";
import type { World } from "../world";
import { snapshot, type ActorSnapshot } from "./snapshot";

export interface SessionHandle {
  index: number;
  productId: string;
  sessionId: string;
  actor: string;
  /** Its product's destinations (host and path), one lane each. */
  destinations: readonly string[];
  stub: ReturnType<typeof stubFor>;
  nextToken: number;
  /** Alarm runs the driver has in flight on this actor. */
  running: number;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const EVICT_WAIT_MS = 1_000;

export class Actors {
  readonly stats = { crashes: 0, evictions: 0 };
  /** Sessions touched since the last `takeTouched()`: only their state can have changed. */
  private readonly touched = new Set<SessionHandle>();

  readonly sessions: readonly SessionHandle[];
  private readonly world: World;

  /** The project's summary mode: which summaries a lane still has to post. */
  private readonly rolling: boolean;

  constructor(sessions: readonly SessionHandle[], world: World, rolling: boolean) {
    this.sessions = sessions;
    this.world = world;
    this.rolling = rolling;
  }

  touch(h: SessionHandle): void {
    this.touched.add(h);
  }

  takeTouched(): SessionHandle[] {
    const out = [...this.touched];
    this.touched.clear();
    return out;
  }

  /** Awaits an operation while aborting actors whose requests hang on a crash fault. */
  async settle<T>(promise: Promise<T>): Promise<Settled<T>> {
    let outcome: Settled<T> | null = null;
    const done = promise.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    while (outcome === null) {
      await Promise.race([done, sleep(3)]);
      if (outcome === null && this.world.hung.size) await this.crashHung();
    }
    return outcome;
  }

  /** Fires the actor's alarm, if one is set, the way the platform does (consumed as it fires). */
  async alarm(h: SessionHandle): Promise<boolean> {
    this.touch(h);
    h.running += 1;
    try {
      const res = await this.settle(runDurableObjectAlarm(h.stub));
      return res.ok && res.value;
    } finally {
      h.running -= 1;
    }
  }

  /**
   * Evicts the actor gracefully. Eviction waits for the actor's requests (one hanging on a crash
   * fault is aborted meanwhile) and for an alarm the platform is about to retry, so it is given a
   * moment only: past that the actor counts as busy, and the platform may evict it later.
   */
  async evict(h: SessionHandle): Promise<void> {
    this.touch(h);
    const evicted = evictDurableObject(h.stub).then(
      () => true,
      () => false, // Not running, or aborted first.
    );
    const res = await this.settle(Promise.race([evicted, sleep(EVICT_WAIT_MS).then(() => false)]));
    if (res.ok && res.value) this.stats.evictions += 1;
  }

  /** Aborts the actor wherever it is (eviction at an arbitrary await); a run cut short is retried. */
  async crash(h: SessionHandle, hung = false): Promise<void> {
    this.touch(h);
    // Steps only do I/O inside alarm runs: a request in flight (or hung) means a run is cut short.
    const cutShort = hung || h.running > 0 || [...this.world.inFlight.values()].some((what) => what.startsWith(`${h.actor} `));
    await crash(h.productId, h.sessionId);
    // A stub to an aborted object stays broken; clients (like the Worker) take a fresh one.
    h.stub = stubFor(h.productId, h.sessionId);
    if (cutShort) await this.settle(retryAlarm(h.productId, h.sessionId));
    this.stats.crashes += 1;
  }

  async crashHung(): Promise<void> {
    for (const actor of [...this.world.hung]) {
      this.world.hung.delete(actor);
      const h = this.sessions.find((s) => s.actor === actor);
      if (h) await this.crash(h, true);
    }
  }

  /** Makes every backoff due now, as if its time had come (parked steps included). */
  async makeDue(h: SessionHandle): Promise<void> {
    this.touch(h);
    await this.settle(
      runInDurableObject(h.stub, (instance, state) => {
        const sql = state.storage.sql;
        if (sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'steps'").toArray().length) sql.exec("UPDATE steps SET next_attempt_at = 0");
        forgetReads(instance);
      }),
    );
  }

  /** A snapshot, taking a fresh stub if the actor was just crashed under the old one. */
  async snapshotOf(h: SessionHandle, trace: readonly string[]): Promise<ActorSnapshot> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await this.settle(snapshot(h.stub, h.actor, this.world, h.destinations, this.rolling));
      if (res.ok) return res.value;
      h.stub = stubFor(h.productId, h.sessionId);
    }
    throw new Error(`no snapshot of ${h.actor}; trace:\n${trace.join("\n")}`);
  }

  /** The actor's alarm and stored notes and steps, for failure messages. */
  async describe(h: SessionHandle): Promise<string> {
    const res = await this.settle(
      runInDurableObject(h.stub, async (_instance, state) => {
        const sql = state.storage.sql;
        return JSON.stringify({
          alarm: await state.storage.getAlarm(),
          now: Date.now(),
          running: h.running,
          inFlight: [...this.world.inFlight.values()],
          session: sql.exec("SELECT covered_window, open_window, open_count, flush_at FROM session").toArray(),
          lanes: sql.exec("SELECT id, destination, delivered_seq, covered_window FROM lanes").toArray(),
          notes: sql.exec("SELECT id, lane, kind, window_id, seq_from, seq_to, part_id, posted_at FROM notes").toArray(),
          windows: sql.exec("SELECT id, summary IS NOT NULL AS summarised, posted_at FROM windows").toArray(),
          steps: sql.exec("SELECT key, attempts, next_attempt_at, parked_at, last_error FROM steps").toArray(),
        });
      }),
    );
    return res.ok ? res.value : `(no description: ${String(res.error)})`;
  }
}
