/**
 * What a memory entry costs in rows written (METER=on, workerd's own cursor counts): one for a new
 * entry, one for a change, none for an unchanged re-send. Finding an entry reads its 32 slots by
 * rowid (a row read each, a thousandth of the price of a row written); a new one, once per store,
 * whether entries copied from `001_memory` are left.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { configureMeter, meterCounts } from "../src/meter";
import { MemoryStore } from "../src/product/memory/memoryStore";
import { uniqueSession } from "./helpers/api";
import { entry } from "./helpers/memory";
import { productStub } from "./helpers/products";

type Cost = { rows_read: number; rows_written: number };

/** The rows `write` reads and writes through a store on the product's storage. */
async function costOf(productId: string, write: (store: MemoryStore) => void): Promise<Cost> {
  return runInDurableObject(productStub(productId), (_i, state) => {
    configureMeter(true);
    const store = new MemoryStore(state.storage);
    const before = meterCounts().storage;
    write(store);
    const after = meterCounts().storage;
    return { rows_read: after.rows_read - before.rows_read, rows_written: after.rows_written - before.rows_written };
  });
}

describe("a memory entry's rows", () => {
  it("a new entry writes one row, an unchanged re-send none, a change one", async () => {
    const p = uniqueSession("meter-memory");
    const e = entry("Exported invoices to CSV.");
    const vector = Float32Array.from([1, 0, 0.5]);
    expect(await costOf(p, (s) => s.upsert(e, vector))).toEqual({ rows_read: 32, rows_written: 1 });
    expect(await costOf(p, (s) => s.upsert(e, Float32Array.from(vector)))).toEqual({ rows_read: 33, rows_written: 0 });
    expect(await costOf(p, (s) => s.upsert({ ...e, text: "Exported invoices to PDF." }, vector))).toEqual({ rows_read: 33, rows_written: 1 });
    expect(await costOf(p, (s) => s.upsert({ ...e, text: "Exported invoices to PDF." }, Float32Array.from([1, 0, 0.25])))).toEqual({ rows_read: 33, rows_written: 1 });
    expect(await costOf(p, (s) => s.upsert(entry("Invited a teammate."), null))).toEqual({ rows_read: 32, rows_written: 1 });
    // Removing a session's entries: one row each (its rows scanned: metadata has no index).
    expect(await costOf(p, (s) => s.removeSession(e.session_id))).toMatchObject({ rows_written: 1 });
  });
});
