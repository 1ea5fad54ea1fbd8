/**
 * The per-session backlog bound (SESSION_MAX_PENDING_ACTIONS, default 2,000) through the real
 * Worker: a destination that is down keeps summaries from being posted, so the backlog grows to
 * the bound; past it ingest answers 429 `session_backlog` with Retry-After and stores nothing of
 * the request, on every ingest route; once summaries are posted there is room again.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import hogFlatClick from "./fixtures/posthog/hog-flat-click.json";
import { batch, getState, makeStepsDue, postActions, request, settle, uniqueSession } from "./helpers/api";
import { installWorld } from "./helpers/world";

const BOUND = 2_000;
let fx: ReturnType<typeof installWorld>;

beforeEach(() => {
  fx = installWorld();
});
afterEach(() => fx.restore());

/** Fills a session to the bound (four full batches) while the webhook receiver is down. */
async function fillToBound(product: string, session: string): Promise<void> {
  fx.faults.failDest(...Array<"500">(100).fill("500"));
  for (let from = 0; from < BOUND; from += 500) {
    expect((await postActions(batch(product, session, from, 500))).status).toBe(202);
  }
}

async function expectBacklog429(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("session_backlog");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(5);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe("per-session backlog bound", () => {
  it("past the bound a batch is 429 session_backlog with Retry-After, stores nothing, and is accepted once summaries are posted", async () => {
    const p = "backlog";
    const s = uniqueSession();
    await fillToBound(p, s);

    await expectBacklog429(await postActions(batch(p, s, BOUND, 1)));
    const { body: full } = await getState(p, s);
    expect(full.counters).toMatchObject({ actions_accepted: BOUND, batches_accepted: 4 });
    expect(full.backlog).toMatchObject({ actions: BOUND, max_actions: BOUND });

    // The receiver is back: summaries are posted, the covered raw notes redacted, the rows pruned.
    fx.restore();
    fx = installWorld();
    await makeStepsDue(p, s);
    await settle(p, s, 200);
    expect((await postActions(batch(p, s, BOUND, 1))).status).toBe(202);
    const { body: after } = await getState(p, s);
    expect(after.counters.actions_accepted).toBe(BOUND + 1);
  });

  it("an array request is refused whole when one of its sessions is full: the other session stores nothing", async () => {
    const p = "backlog-array";
    const full = uniqueSession();
    const fresh = uniqueSession();
    await fillToBound(p, full);

    await expectBacklog429(await postActions([batch(p, fresh, 0, 3), batch(p, full, BOUND, 1)]));
    expect((await getState(p, fresh)).status).toBe(404);
    expect((await getState(p, full)).body.counters.actions_accepted).toBe(BOUND);
  });

  it("one request of 100 batches × 500 actions for one session is refused (413: it can never fit) and stores nothing", async () => {
    const p = "backlog-huge";
    const s = uniqueSession();
    const batches = Array.from({ length: 100 }, () => ({ type: "actions", product_id: p, session_id: s, actions: Array(500).fill({}) }));
    const res = await postActions(batches);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("session_request_too_large");
    expect((await getState(p, s)).status).toBe(404);
  });

  it("a PostHog delivery for a full session answers 429 so PostHog retries it, and stores nothing", async () => {
    const p = "backlog-posthog";
    await fillToBound(p, hogFlatClick.session_id);
    const res = await request(`/webhook/${p}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-posthog-secret": "test-posthog-secret" },
      body: JSON.stringify(hogFlatClick),
    });
    await expectBacklog429(res);
    expect((await getState(p, hogFlatClick.session_id)).body.counters.actions_accepted).toBe(BOUND);
  });
});
