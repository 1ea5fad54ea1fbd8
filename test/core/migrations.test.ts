import { describe, expect, it } from "vitest";
import { migrate, MIGRATIONS } from "../../src/session/migrations";
import { createNodeStorage } from "./support/nodeStorage";

/** Each stored object's SQL on one line, so a change to a shipped migration shows as a diff. */
function schemaOf(storage: DurableObjectStorage): string[] {
  return storage.sql
    .exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT IN ('_migrations', 'sqlite_sequence') ORDER BY name")
    .toArray()
    .map((r) => r.sql.replace(/\s+/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")"));
}

describe("migrations", () => {
  it("000_init creates exactly the schema it shipped with (stored sessions depend on it)", () => {
    const storage = createNodeStorage();
    migrate(storage, MIGRATIONS.slice(0, 1));
    expect(schemaOf(storage)).toMatchInlineSnapshot(`
      [
        "CREATE TABLE batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, window_id INTEGER NOT NULL, received_at INTEGER NOT NULL, action_count INTEGER NOT NULL, actions TEXT NOT NULL, note_id INTEGER)",
        "CREATE INDEX batches_by_note ON batches (note_id, seq)",
        "CREATE INDEX batches_by_window ON batches (window_id, seq)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('raw', 'summary')), window_id INTEGER NOT NULL, body TEXT NOT NULL, link TEXT, created_at INTEGER NOT NULL, part_id TEXT, posted_at INTEGER)",
        "CREATE TABLE session (id INTEGER PRIMARY KEY CHECK (id = 1), product_id TEXT NOT NULL, session_id TEXT NOT NULL, epoch TEXT NOT NULL, created_at INTEGER NOT NULL, last_action_at INTEGER NOT NULL, link TEXT, linked_at INTEGER, user_id TEXT, email TEXT, open_window INTEGER NOT NULL DEFAULT 1, open_count INTEGER NOT NULL DEFAULT 0, covered_window INTEGER NOT NULL DEFAULT 0, flush_at INTEGER, recent_keys TEXT NOT NULL DEFAULT '[]', actions_accepted INTEGER NOT NULL DEFAULT 0, batches_accepted INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0, raw_notes_posted INTEGER NOT NULL DEFAULT 0, summaries INTEGER NOT NULL DEFAULT 0, summary_notes_posted INTEGER NOT NULL DEFAULT 0, redactions INTEGER NOT NULL DEFAULT 0, llm_calls INTEGER NOT NULL DEFAULT 0, llm_failures INTEGER NOT NULL DEFAULT 0, summaries_rejected INTEGER NOT NULL DEFAULT 0, step_failures INTEGER NOT NULL DEFAULT 0, actions_held_back INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE steps (key TEXT PRIMARY KEY, kind TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_error TEXT, parked_at INTEGER, unknown_outcome INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)",
        "CREATE TABLE windows (id INTEGER PRIMARY KEY, action_count INTEGER NOT NULL, closed_at INTEGER NOT NULL, summary TEXT, summarised_at INTEGER, extractive INTEGER NOT NULL DEFAULT 0, posted_at INTEGER)",
      ]
    `);
  });

  it("001_seen_keys adds only the seen_keys table and its age index", () => {
    const before = createNodeStorage();
    migrate(before, MIGRATIONS.slice(0, 1));
    const after = createNodeStorage();
    migrate(after, MIGRATIONS.slice(0, 2));
    expect(schemaOf(after).filter((sql) => !schemaOf(before).includes(sql))).toEqual([
      "CREATE TABLE seen_keys (key TEXT PRIMARY KEY, fingerprint TEXT, seen_at INTEGER NOT NULL)",
      "CREATE INDEX seen_keys_by_age ON seen_keys (seen_at)",
    ]);
  });

  it("002_products adds only the index columns to the session row and the destination to notes", () => {
    const before = createNodeStorage();
    migrate(before, MIGRATIONS.slice(0, 2));
    const after = createNodeStorage();
    migrate(after, MIGRATIONS.slice(0, 3));
    const changed = schemaOf(after).filter((sql) => !schemaOf(before).includes(sql));
    expect(changed).toEqual([expect.stringMatching(/^CREATE TABLE notes \(.*, posted_at INTEGER ?, destination TEXT\)$/), expect.stringMatching(/^CREATE TABLE session \(.*, actions_held_back INTEGER NOT NULL DEFAULT 0 ?, indexed_state TEXT, indexed_activity_at INTEGER, indexed_at INTEGER\)$/)]);
  });

  it("003_fewer_writes rebuilds batches (no AUTOINCREMENT, no by-note index) and seen_keys (WITHOUT ROWID, no age index), keeping every row; 004 drops the window index", () => {
    const storage = createNodeStorage();
    migrate(storage, MIGRATIONS.slice(0, 3));
    storage.sql.exec("INSERT INTO batches (window_id, received_at, action_count, actions, note_id) VALUES (1, 10, 1, '[]', NULL), (1, 11, 2, '[]', 7)");
    storage.sql.exec("INSERT INTO seen_keys (key, fingerprint, seen_at) VALUES ('sha:a', NULL, 10), ('idem:k', 'f', 11)");
    const before = schemaOf(storage);
    migrate(storage, MIGRATIONS.slice(0, 5));
    const after = schemaOf(storage);
    expect(after.filter((sql) => !before.includes(sql))).toEqual([
      "CREATE TABLE \"batches\" (seq INTEGER PRIMARY KEY, window_id INTEGER NOT NULL, received_at INTEGER NOT NULL, action_count INTEGER NOT NULL, actions TEXT NOT NULL, note_id INTEGER)",
      "CREATE TABLE \"seen_keys\" (key TEXT PRIMARY KEY, fingerprint TEXT, seen_at INTEGER NOT NULL) WITHOUT ROWID",
    ]);
    expect(after.some((sql) => /batches_by_note|batches_by_window|seen_keys_by_age/.test(sql))).toBe(false); // 004 drops the last
    expect(storage.sql.exec("SELECT seq, window_id, note_id FROM batches ORDER BY seq").toArray()).toEqual([
      { seq: 1, window_id: 1, note_id: null },
      { seq: 2, window_id: 1, note_id: 7 },
    ]);
    expect(storage.sql.exec("SELECT key, fingerprint, seen_at FROM seen_keys ORDER BY key").toArray()).toEqual([
      { key: "idem:k", fingerprint: "f", seen_at: 11 },
      { key: "sha:a", fingerprint: null, seen_at: 10 },
    ]);
    // New batches keep growing past every stored one.
    storage.sql.exec("INSERT INTO batches (window_id, received_at, action_count, actions) VALUES (2, 12, 1, '[]')");
    expect(storage.sql.exec("SELECT MAX(seq) AS m FROM batches").one()).toEqual({ m: 3 });
  });

  it("005_lanes gives a session that wrote to a destination its lane: how far its notes took the batches, what its summaries cover", () => {
    const storage = createNodeStorage();
    migrate(storage, MIGRATIONS.slice(0, 5));
    const sql = storage.sql;
    sql.exec("INSERT INTO session (id, product_id, session_id, epoch, created_at, last_action_at, covered_window, raw_notes_posted, summary_notes_posted) VALUES (1, 'p', 's', 'e', 5, 9, 1, 2, 1)");
    sql.exec("INSERT INTO windows (id, action_count, closed_at, summary, summarised_at, posted_at) VALUES (1, 2, 6, 'one', 6, 7), (2, 2, 8, 'two', 8, NULL), (3, 1, 9, NULL, NULL, NULL)");
    // Window 1's raw note (batches 1-2) awaits redaction, window 2's raw note (3) is posted, batch 4 is pending.
    sql.exec("INSERT INTO batches (seq, window_id, received_at, action_count, actions, note_id) VALUES (1, 1, 5, 1, '[]', 1), (2, 1, 5, 1, '[]', 1), (3, 2, 7, 2, '[]', 2), (4, 3, 9, 1, '[]', NULL)");
    sql.exec("INSERT INTO notes (id, kind, window_id, body, created_at, part_id, posted_at, destination) VALUES (1, 'raw', 1, 'r1', 5, 'm1', 5, '{\"type\":\"webhook\"}'), (2, 'raw', 2, 'r2', 7, 'm2', 7, '{\"type\":\"webhook\"}'), (3, 'summary', 1, 'one', 7, 'm3', 7, '{\"type\":\"webhook\"}')");
    migrate(storage, MIGRATIONS.slice(0, 6));
    expect(sql.exec("SELECT id, destination, delivered_seq, covered_window, raw_notes_posted FROM lanes").toArray()).toEqual([
      { id: 1, destination: '{"type":"webhook"}', delivered_seq: 3, covered_window: 1, raw_notes_posted: 2 },
    ]);
    expect(sql.exec("SELECT id, lane, seq_from, seq_to FROM notes ORDER BY id").toArray()).toEqual([
      { id: 1, lane: 1, seq_from: 1, seq_to: 2 },
      { id: 2, lane: 1, seq_from: 3, seq_to: 3 },
      { id: 3, lane: 1, seq_from: null, seq_to: null },
    ]);
    // The session's own copy now holds window 2's stored summary.
    expect(sql.exec("SELECT covered_window FROM session").one()).toEqual({ covered_window: 2 });
    expect(sql.exec("SELECT id, posted_at FROM windows ORDER BY id").toArray()).toEqual([
      { id: 1, posted_at: 7 },
      { id: 2, posted_at: 8 },
      { id: 3, posted_at: null },
    ]);
  });

  it("005_lanes gives a store session (it never wrote a note) no lane", () => {
    const storage = createNodeStorage();
    migrate(storage, MIGRATIONS.slice(0, 5));
    storage.sql.exec("INSERT INTO session (id, product_id, session_id, epoch, created_at, last_action_at) VALUES (1, 'p', 's', 'e', 5, 9)");
    migrate(storage);
    expect(storage.sql.exec("SELECT COUNT(*) AS n FROM lanes").one()).toEqual({ n: 0 });
  });

  it("006_lane_threads adds only the thread and context message columns to lanes", () => {
    const before = createNodeStorage();
    migrate(before, MIGRATIONS.slice(0, 6));
    const after = createNodeStorage();
    migrate(after, MIGRATIONS.slice(0, 7));
    const changed = schemaOf(after).filter((sql) => !schemaOf(before).includes(sql));
    expect(changed).toEqual([expect.stringMatching(/^CREATE TABLE lanes \(.*, summaries_skipped INTEGER NOT NULL DEFAULT 0 ?, thread_of TEXT, thread TEXT, context_of TEXT, context_part TEXT\)$/)]);
  });

  it("009_no_closed_window_rows drops the rows earlier releases wrote at a window's close, keeping summaries (posted) and the batches that say a window waits", () => {
    const storage = createNodeStorage();
    migrate(storage, MIGRATIONS.slice(0, 9));
    storage.sql.exec("INSERT INTO session (id, product_id, session_id, epoch, created_at, last_action_at, open_window, covered_window) VALUES (1, 'p', 's', 'e', 5, 9, 4, 1)");
    storage.sql.exec(
      "INSERT INTO windows (id, action_count, closed_at, summary, summarised_at, posted_at) VALUES (1, 3, 6, 'one', 7, NULL), (2, 3, 8, NULL, NULL, NULL), (3, 3, 9, NULL, NULL, NULL)",
    );
    storage.sql.exec("INSERT INTO batches (seq, window_id, received_at, action_count, actions) VALUES (1, 2, 8, 3, '[]'), (2, 3, 9, 3, '[]')");
    migrate(storage);
    expect(storage.sql.exec("SELECT id, summary, posted_at FROM windows").toArray()).toEqual([{ id: 1, summary: "one", posted_at: 7 }]);
    expect(storage.sql.exec("SELECT COUNT(*) AS n FROM batches").one()).toEqual({ n: 2 });
  });

  it("a new session gets in one step exactly the schema the migrations add up to, every migration recorded", () => {
    const stepwise = createNodeStorage();
    migrate(stepwise, [...MIGRATIONS]); // a copy: applied one by one
    const fresh = createNodeStorage();
    migrate(fresh);
    // A renamed table keeps its name quoted in sqlite_master, and an added column its leading
    // space; the definitions are otherwise equal.
    const plain = (sql: string) => sql.replace(/^CREATE TABLE "(\w+)"/, "CREATE TABLE $1").replace(/ ,/g, ",");
    expect(schemaOf(fresh)).toEqual(schemaOf(stepwise).map(plain));
    const ids = (s: DurableObjectStorage) => s.sql.exec<{ id: string }>("SELECT id FROM _migrations ORDER BY id").toArray().map((r) => r.id);
    expect(ids(fresh)).toEqual(MIGRATIONS.map((m) => m.id));
    expect(ids(stepwise)).toEqual(ids(fresh));
  });

  it("applies once, records each migration, and refuses a diverging history", () => {
    const storage = createNodeStorage();
    migrate(storage);
    migrate(storage);
    const applied = storage.sql.exec<{ id: string }>("SELECT id FROM _migrations").toArray().map((r) => r.id);
    expect(applied).toEqual(MIGRATIONS.map((m) => m.id));
    expect(() => migrate(storage, [{ id: "000_other", sql: "SELECT 1" }])).toThrow(/diverges at 000_init/);
  });
});
