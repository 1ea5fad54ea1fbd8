/**
 * What the campaign does to actors as the platform would: fire their alarm (at least once: a run
 * cut short by a crash is owed again), evict them gracefully, crash them at any await, and read
 * atomic snapshots. Every await on an actor goes through `settle`, which aborts actors whose
 * requests hang on a crash fault, so a crash lands exactly at that await.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { stubFor } from "../helpers/api";
import { VIRTUAL_ALARM_KEY } from "./campaignWorker";
import { snapshot, type ActorSnapshot } from "./invariants";
import type { Receiver } from "./receiver";
import type { World } from "./world";

export interface SessionHandle {
  index: number;
  productId: string;
  sessionId: string;
  actor: string;
  stub: ReturnType<typeof stubFor>;
  /** This session's K (its id carries it, with the summary mode, to the campaign's actor). */
  threshold: number;
  mode: "rolling" | "independent";
  nextToken: number;
  /** An alarm run was cut short by a crash: the platform would retry it. */
  owed: boolean;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Actors {
  readonly stats = { crashes: 0, evictions: 0 };
  /** Sessions touched since the last `takeTouched()`: only their state can have changed. */
  private readonly touched = new Set<SessionHandle>();

  constructor(
    readonly sessions: readonly SessionHandle[],
    private readonly world: World,
    private readonly receiver: Receiver,
  ) {}

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

  /** Fires the actor's alarm the way the platform does (or retries one a crash cut short). */
  async alarm(h: SessionHandle): Promise<void> {
    this.touch(h);
    const owed = h.owed;
    const res = await this.settle(
      runInDurableObject(h.stub, async (instance, state) => {
        const at = state.storage.kv.get<number>(VIRTUAL_ALARM_KEY) ?? null;
        if (at === null && !owed) return false;
        // Consumed as it fires, as the platform does: during the run only a new setAlarm shows.
        state.storage.kv.delete(VIRTUAL_ALARM_KEY);
        await instance.alarm();
        return true;
      }),
    );
    if (res.ok && res.value) h.owed = false;
    else if (!res.ok) h.owed = true;
  }

  async evict(h: SessionHandle): Promise<void> {
    this.touch(h);
    try {
      await evictDurableObject(h.stub);
      this.stats.evictions += 1;
    } catch {
      // Not running, or busy with a request: eviction would wait; the crash operation covers that.
    }
  }

  /** Aborts the actor wherever it is (eviction at an arbitrary await); a cut-short alarm is owed. */
  async crash(h: SessionHandle): Promise<void> {
    this.touch(h);
    await runInDurableObject(h.stub, (_instance, state) => state.abort("campaign crash")).catch(() => undefined);
    // A stub to an aborted object stays broken; clients (like the Worker) take a fresh one.
    h.stub = stubFor(h.productId, h.sessionId);
    h.owed = true;
    this.stats.crashes += 1;
  }

  async crashHung(): Promise<void> {
    for (const actor of [...this.world.hung]) {
      this.world.hung.delete(actor);
      const h = this.sessions.find((s) => s.actor === actor);
      if (h) await this.crash(h);
    }
  }

  /** Makes every backoff due now, as if its time had come (parked steps included). */
  async makeDue(h: SessionHandle): Promise<void> {
    this.touch(h);
    await this.settle(
      runInDurableObject(h.stub, (_instance, state) => {
        const sql = state.storage.sql;
        if (sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'steps'").toArray().length) sql.exec("UPDATE steps SET next_attempt_at = 0");
      }),
    );
  }

  /** A snapshot, taking a fresh stub if the actor was just crashed under the old one. */
  async snapshotOf(h: SessionHandle, trace: readonly string[]): Promise<ActorSnapshot> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await this.settle(snapshot(h.stub, h.actor, this.receiver));
      if (res.ok) return res.value;
      h.stub = stubFor(h.productId, h.sessionId);
    }
    throw new Error(`no snapshot of ${h.actor}; trace:\n${trace.join("\n")}`);
  }

  /** The actor's alarm, in-memory drain and stored notes and steps, for failure messages. */
  async describe(h: SessionHandle): Promise<string> {
    const res = await this.settle(
      runInDurableObject(h.stub, async (instance, state) => {
        const sql = state.storage.sql;
        const inner = instance as unknown as { draining: unknown; alarmAt: unknown };
        return JSON.stringify({
          alarm: state.storage.kv.get(VIRTUAL_ALARM_KEY) ?? null,
          now: Date.now(),
          draining: inner.draining !== null,
          alarmAt: inner.alarmAt,
          owed: h.owed,
          inFlight: [...this.world.inFlight.values()],
          session: sql.exec("SELECT covered_window, open_window, open_count, flush_at FROM session").toArray(),
          notes: sql.exec("SELECT id, kind, window_id, part_id, posted_at FROM notes").toArray(),
          windows: sql.exec("SELECT id, summary IS NOT NULL AS summarised, posted_at FROM windows").toArray(),
          steps: sql.exec("SELECT key, attempts, next_attempt_at, parked_at, last_error FROM steps").toArray(),
        });
      }),
    );
    return res.ok ? res.value : `(no description: ${String(res.error)})`;
  }
}
