/**
 * The HTTP contract: auth, every bad input with its error (and no state change), duplicates,
 * the session routes, and the OpenAPI document.
 */
import { describe, expect, it } from "vitest";
import { auth, batch, getState, postActions, request, sessionPath, settle, sqlRows, uniqueSession } from "./helpers/api";

const P = "api";

async function errorOf(res: Response) {
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
}

describe("POST /v1/actions", () => {
  it("accepts minimal actions (title, description, canonical_url only) and answers per batch", async () => {
    const s = uniqueSession();
    const res = await postActions({ type: "actions", product_id: P, session_id: s, actions: [{ title: "t", description: "d", canonical_url: "/u" }] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: [{ product_id: P, session_id: s, actions: 1, duplicate: false }] });
  });

  it("accepts several sessions in one request", async () => {
    const [a, b] = [uniqueSession(), uniqueSession()];
    const res = await postActions([batch(P, a, 0, 2), batch(P, b, 0, 3)]);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: { session_id: string; actions: number }[] };
    expect(body.accepted.map((x) => [x.session_id, x.actions])).toEqual([[a, 2], [b, 3]]);
  });

  it("treats a retried POST as a no-op, by content or by Idempotency-Key", async () => {
    const s = uniqueSession();
    const body = batch(P, s, 0, 3);
    expect((await postActions(body)).status).toBe(202);
    const again = (await (await postActions(body)).json()) as { accepted: { duplicate: boolean }[] };
    expect(again.accepted[0]!.duplicate).toBe(true);
    const keyed = batch(P, s, 3, 2);
    await postActions(keyed, { "idempotency-key": "retry-1" });
    const retried = (await (await postActions(batch(P, s, 3, 2, { forwarded_at: 99 }), { "idempotency-key": "retry-1" })).json()) as {
      accepted: { duplicate: boolean }[];
    };
    expect(retried.accepted[0]!.duplicate).toBe(true);
    await settle(P, s);
    const { body: state } = await getState(P, s);
    expect(state.counters).toMatchObject({ actions_accepted: 5, batches_accepted: 2, duplicates: 2 });
  });

  it.each([
    ["a batch without session_id", { type: "actions", product_id: P, actions: [] }, 422, "invalid_batch", /session_id/],
    ["a batch without product_id", { type: "actions", session_id: "x", actions: [] }, 422, "invalid_batch", /product_id/],
    ["a non-array actions", { type: "actions", product_id: P, session_id: "x", actions: { title: "t" } }, 422, "invalid_batch", /actions/],
    ["an unknown type", { type: "usertour_trigger", product_id: P, session_id: "x", actions: [] }, 422, "unknown_type", /usertour_trigger/],
    ["a too-long title", { type: "actions", product_id: P, session_id: "x", actions: [{ title: "x".repeat(600) }] }, 422, "invalid_batch", /actions\[0\]\.title/],
    ["a product id with a colon", { type: "actions", product_id: "a:b", session_id: "x", actions: [] }, 422, "invalid_batch", /product_id/],
    ["an empty array", [], 422, "invalid_batch", /^the array holds no batch$/],
    ["more batches than the limit", Array.from({ length: 101 }, (_, i) => batch(P, `many-${i}`, 0, 1)), 422, "too_many_batches", /^at most 100 batches per request, got 101$/],
    ["a batch that is not an object", [batch(P, "x", 0, 1), 7], 422, "invalid_batch", /^batch\[1\]: must be an ActionsPayload object$/],
    ["a body that is neither a batch nor an array", "42", 422, "invalid_batch", /^body: must be an ActionsPayload object$/],
    ["an unknown type in an array", [batch(P, "x", 0, 1), { type: "x" }], 422, "unknown_type", /^batch\[1\]\.type: unknown payload type "x"/],
    ["a body that is not JSON", "{not json", 400, "invalid_json", /not valid JSON/],
    ["a body over 1 MiB", JSON.stringify({ pad: "x".repeat(1_100_000) }), 413, "body_too_large", /1048576 bytes/],
  ])("rejects %s with a clear error", async (_label, body, status, code, message) => {
    const res = await postActions(body);
    const { status: got, body: error } = await errorOf(res);
    expect(got).toBe(status);
    expect(error.error.code).toBe(code);
    expect(error.error.message).toMatch(message);
  });

  it("applies nothing when one batch of many is bad", async () => {
    const [good, other] = [uniqueSession(), uniqueSession()];
    const res = await postActions([batch(P, good, 0, 2), { ...batch(P, other, 0, 1), session_id: "" }]);
    const { status, body } = await errorOf(res);
    expect(status).toBe(422);
    expect(body.error.message).toMatch(/^batch\[1\]\.session_id/);
    expect((await getState(P, good)).status).toBe(404);
  });

  it("refuses an Idempotency-Key that is blank or too long", async () => {
    for (const key of ["  ", "k".repeat(201)]) {
      const { status, body } = await errorOf(await postActions(batch(P, uniqueSession(), 0, 1), { "idempotency-key": key }));
      expect({ status, code: body.error.code }).toEqual({ status: 422, code: "invalid_idempotency_key" });
    }
  });

  it("reads a body declared JSON, with a charset or as a +json type", async () => {
    for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json"]) {
      const s = uniqueSession();
      const res = await postActions(JSON.stringify(batch(P, s, 0, 1)), { "content-type": type });
      expect(res.status).toBe(202);
      expect((await getState(P, s)).body.counters.actions_accepted).toBe(1);
    }
  });

  it("answers 415 for a body not declared JSON (text/plain, form-encoded, none), and stores nothing", async () => {
    for (const type of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]) {
      const s = uniqueSession();
      const res = await postActions(JSON.stringify(batch(P, s, 0, 1)), { "content-type": type });
      const { status, body } = await errorOf(res);
      expect({ type, status, code: body.error.code }).toEqual({ type, status: 415, code: "unsupported_media_type" });
      expect((await getState(P, s)).status).toBe(404);
    }
  });

  it("refuses a missing or wrong token, and stores nothing", async () => {
    const s = uniqueSession();
    const none = await request("/v1/actions", { method: "POST", body: JSON.stringify(batch(P, s, 0, 1)) });
    expect((await errorOf(none)).status).toBe(401);
    const wrong = await postActions(batch(P, s, 0, 1), { authorization: "Bearer nope" });
    expect(await errorOf(wrong)).toEqual({ status: 401, body: { error: { code: "unauthorized", message: "invalid API token" } } });
    expect((await getState(P, s)).status).toBe(404);
  });

  it("acknowledges a connector summary payload without applying it", async () => {
    const s = uniqueSession();
    const res = await postActions({ type: "summary", product_id: P, session_id: s, summary: "x", replaces: 3 });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: unknown[]; ignored: { index: number }[] };
    expect(body.accepted).toEqual([]);
    expect(body.ignored[0]!.index).toBe(0);
  });
});

describe("session routes", () => {
  it("unknown sessions are 404 on every read, and probing one stores nothing", async () => {
    const s = uniqueSession();
    for (const [method, suffix] of [["GET", ""], ["GET", "/context"], ["POST", "/flush"], ["DELETE", ""]] as const) {
      const res = await request(sessionPath(P, s, suffix), { method, headers: auth });
      expect((await errorOf(res)).body.error.code).toBe("session_not_found");
    }
  });

  it("the context is the latest summary then the uncovered actions; ?query= wraps it like enrich()", async () => {
    const s = uniqueSession();
    await postActions(batch(P, s, 0, 10));
    await postActions(batch(P, s, 10, 2));
    await settle(P, s);
    const res = await request(sessionPath(P, s, "/context?query=Why%20did%20export%20fail%3F"), { headers: auth });
    const { context } = (await res.json()) as { context: string };
    expect(context).toMatch(/^\[Session context\]\nSummary: Extractive summary \(no LLM configured\) of 10 actions\./);
    expect(context).toContain("Recent activity:\n1. [10] click: User did thing 10 \u2014 https://app.example.com/page/1\n2. [11] click: User did thing 11");
    expect(context.endsWith("[Query]\nWhy did export fail?")).toBe(true);
  });

  it("flush summarises below K, and DELETE erases the session", async () => {
    const s = uniqueSession();
    await postActions(batch(P, s, 0, 3));
    const flush = await request(sessionPath(P, s, "/flush"), { method: "POST", headers: auth });
    expect(flush.status).toBe(202);
    await settle(P, s);
    const { body } = await getState(P, s);
    expect(body.latest_summary.text).toMatch(/of 3 actions/);
    expect(body.windows).toMatchObject({ unsummarised: 0, unposted: 0, covered_through: 1 });
    expect((await request(sessionPath(P, s), { method: "DELETE", headers: auth })).status).toBe(204);
    expect((await getState(P, s)).status).toBe(404);
  });

  it("the state endpoint shows what a user needs and no secret", async () => {
    const s = uniqueSession();
    await postActions(batch(P, s, 0, 4, { user_id: "u1", conversation_id: "c-9" }));
    await settle(P, s);
    const { body } = await getState(P, s);
    expect(body).toMatchObject({
      product_id: P,
      session_id: s,
      threshold: 10,
      mode: "rolling",
      pending: { actions: 0 },
      open_window: { id: 1, actions: 4 },
      link: { conversation_id: "c-9" },
      step: null,
      counters: { actions_accepted: 4, raw_notes_posted: 0 },
    });
    // The store writes no notes: its rows are the context.
    expect(body.notes).toEqual([]);
    expect(JSON.stringify(body)).not.toContain("test-api-token");
  });

  it("refuses an unusable path or query with a clear error", async () => {
    const badPath = await request(sessionPath("a:b", "s"), { headers: auth });
    expect((await errorOf(badPath)).body.error).toEqual({
      code: "invalid_path",
      message: "product_id: product_id must be 1-128 letters, digits, '.', '_' or '-', and not '.' or '..'",
    });
    const longQuery = await request(sessionPath(P, uniqueSession(), `/context?query=${"q".repeat(4_001)}`), { headers: auth });
    expect(await errorOf(longQuery)).toEqual({ status: 422, body: { error: { code: "invalid_query", message: "query: at most 4000 characters" } } });
  });

  it("PUT …/link sets and changes the link", async () => {
    const s = uniqueSession();
    const put = (id: string) =>
      request(sessionPath(P, s, "/link"), { method: "PUT", headers: auth, body: JSON.stringify({ conversation_id: id }) });
    expect(await (await put("c1")).json()).toEqual({ conversation_id: "c1", previous: null, changed: true });
    expect(await (await put("c1")).json()).toEqual({ conversation_id: "c1", previous: "c1", changed: false });
    expect(await (await put("c2")).json()).toEqual({ conversation_id: "c2", previous: "c1", changed: true });
    const bad = await request(sessionPath(P, s, "/link"), { method: "PUT", headers: auth, body: "{}" });
    expect((await errorOf(bad)).status).toBe(422);
  });

  it("PUT …/link takes conversation ids by the same rule as POST /sessions/link, and a refused one changes nothing", async () => {
    const s = uniqueSession();
    const put = (id: unknown) =>
      request(sessionPath(P, s, "/link"), { method: "PUT", headers: auth, body: JSON.stringify({ conversation_id: id }) });
    expect((await put("c1")).status).toBe(200);
    for (const id of ["../../admins", "..", ".", "c 1", "c\u0085", "c\ud800", "", "x".repeat(129)]) {
      const { status, body } = await errorOf(await put(id));
      expect({ id, status, code: body.error.code }).toEqual({ id, status: 422, code: "invalid_link" });
    }
    expect(await (await put(215471234567890)).json()).toEqual({ conversation_id: "215471234567890", previous: "c1", changed: true });
    expect((await getState(P, s)).body.link.conversation_id).toBe("215471234567890");
  });
});

describe("service routes", () => {
  it("GET /healthz needs no credential", async () => {
    const res = await request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", destination: "store", summariser: "extractive", threshold: 10 });
  });

  it("GET and DELETE /v1/meter answer 404 not_found without METER=on, and 401 without the API token", async () => {
    for (const method of ["GET", "DELETE"]) {
      const { status, body } = await errorOf(await request("/v1/meter", { method, headers: auth }));
      expect({ status, code: body.error.code }).toEqual({ status: 404, code: "not_found" });
      expect((await request("/v1/meter", { method })).status).toBe(401);
    }
  });

  it("GET /openapi.json describes every route, and every $ref in it resolves", async () => {
    const text = await (await request("/openapi.json")).text();
    const doc = JSON.parse(text) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/actions",
        "/v1/products/{product_id}/sessions/{session_id}",
        "/v1/products/{product_id}/sessions/{session_id}/context",
        "/v1/products/{product_id}/sessions/{session_id}/link",
        "/v1/products/{product_id}/sessions/{session_id}/flush",
        "/webhook/{product_id}",
        "/v1/segment/{product_id}",
        "/sessions/link",
        "/healthz",
        "/v1/meter",
      ]),
    );
    expect((doc.paths["/v1/meter"] as { get: { description: string } }).get.description).toMatch(/^Benchmarking aid/);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(expect.arrayContaining(["ActionsRequest", "PosthogWebhookBody", "SegmentBody", "SessionLinkRequest"]));
    expect(refs.filter((name) => !(name in doc.components.schemas))).toEqual([]);
  });
});

describe("input rules", () => {
  it("refuses a session id with a lone surrogate, and the session stays usable by its real id", async () => {
    const s = uniqueSession();
    const poisoned = await postActions(batch(P, `${s}\ud800`, 0, 1));
    const { status, body } = await errorOf(poisoned);
    expect({ status, code: body.error.code }).toEqual({ status: 422, code: "invalid_batch" });
    expect(body.error.message).toBe("session_id: session_id must be well-formed Unicode (no lone surrogate)");
    expect((await postActions(batch(P, s, 0, 2))).status).toBe(202);
    expect((await getState(P, s)).body.counters.actions_accepted).toBe(2);
    expect((await request(sessionPath(P, s), { method: "DELETE", headers: auth })).status).toBe(204);
  });

  it.each([
    ["a C0 control", { session_id: "s\u0007" }, /session_id: session_id must not contain control characters/],
    ["a C1 control", { session_id: "s\u0085" }, /session_id: session_id must not contain control characters/],
    ["'.'", { session_id: "." }, /session_id: session_id must not be '\.' or '\.\.'/],
    ["'..'", { session_id: ".." }, /session_id: session_id must not be '\.' or '\.\.'/],
    ["a product id '..'", { product_id: ".." }, /product_id: product_id must be .*not '\.' or '\.\.'/],
    ["a lone-surrogate user id", { user_id: "u\udfff" }, /user_id: user_id must be well-formed Unicode/],
    ["a conversation id '../../admins'", { conversation_id: "../../admins" }, /conversation_id: conversation_id must be 1-128/],
    ["an action's lone-surrogate session id", { actions: [{ title: "t", session_id: "\ud800" }] }, /actions\[0\]\.session_id/],
  ])("refuses an id with %s (422, nothing stored)", async (_label, fields, message) => {
    const s = uniqueSession();
    const { status, body } = await errorOf(await postActions({ ...batch(P, s, 0, 1), ...fields }));
    expect({ status, code: body.error.code }).toEqual({ status: 422, code: "invalid_batch" });
    expect(body.error.message).toMatch(message);
    expect((await getState(P, s)).status).toBe(404);
  });

  it("reads a missing or null `actions` as an empty batch: 202, nothing stored; a wrong type is still 422", async () => {
    for (const actions of [null, undefined]) {
      const s = uniqueSession();
      const res = await postActions({ type: "actions", product_id: P, session_id: s, actions });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: [{ product_id: P, session_id: s, actions: 0, duplicate: false }] });
      expect((await getState(P, s)).status).toBe(404);
    }
    for (const actions of ["clicks", { title: "t" }]) {
      const { status, body } = await errorOf(await postActions({ type: "actions", product_id: P, session_id: uniqueSession(), actions }));
      expect({ status, code: body.error.code }).toEqual({ status: 422, code: "invalid_batch" });
    }
  });

  it("clamps timestamps: a negative one reads as missing (0), an end before its start becomes the start", async () => {
    const s = uniqueSession();
    const actions = [
      { title: "a", timestamp_start: -5, timestamp_end: -1 },
      { title: "b", timestamp_start: 1_700_000_010, timestamp_end: 1_700_000_001 },
      { title: "c", timestamp_start: 1_700_000_020 },
    ];
    expect((await postActions({ type: "actions", product_id: P, session_id: s, actions })).status).toBe(202);
    const [row] = await sqlRows<{ actions: string }>(P, s, "SELECT actions FROM batches");
    const stored = (JSON.parse(row!.actions) as { timestamp_start: number; timestamp_end: number }[]).map((a) => [a.timestamp_start, a.timestamp_end]);
    expect(stored).toEqual([[0, 0], [1_700_000_010, 1_700_000_010], [1_700_000_020, 0]]);
  });
});
