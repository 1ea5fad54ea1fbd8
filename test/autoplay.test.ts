/**
 * The `autoplay` push destination as the SDK's `WebhookReceiver(secret)` sees it: each batch an
 * `actions` payload and each summary a `summary` payload, POSTed to the forward URL with the
 * Bearer secret and `X-Connector-Signature` (recomputed here with WebCrypto, independently of the
 * relay's code), the same JSON the stream carries; failures retried, then parked, as every
 * destination's are. Runs in the workers-stream project (K = 4, STEP_MAX_ATTEMPTS = 2).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { auth, batch, getState, makeStepsDue, postActions, request, sessionPath, settle } from "./helpers/api";
import { putSettings } from "./helpers/products";
import { openStream, SseClient } from "./helpers/sse";

const SECRET = "test-autoplay-secret";
const FORWARD_URL = "https://receiver.test/autoplay";
const autoplay = { type: "autoplay", forward_url: FORWARD_URL, secret: { env: "AUTOPLAY_SECRET" } };

interface Received {
  body: string;
  json: Record<string, unknown>;
  headers: Headers;
  signatureValid: boolean;
}

/** The SDK's rule: `sha256=` + lowercase hex HMAC-SHA256 of the raw body, keyed by the secret. */
async function expectedSignature(body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

let received: Received[];
/** Statuses the receiver answers with, in turn; 200 once they run out. */
let answers: number[];

beforeEach(() => {
  received = [];
  answers = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== FORWARD_URL) return new Response("unexpected", { status: 599 });
    const body = await req.text();
    const status = answers.shift() ?? 200;
    if (status === 200) {
      received.push({ body, json: JSON.parse(body) as Record<string, unknown>, headers: req.headers, signatureValid: req.headers.get("x-connector-signature") === (await expectedSignature(body)) });
    }
    return new Response(status === 200 ? "ok" : "no", { status });
  });
});
afterEach(() => vi.restoreAllMocks());

const newProduct = () => `ap-${crypto.randomUUID().slice(0, 8)}`;

describe("the autoplay push destination", () => {
  it("POSTs each batch and then its summary, signed as the SDK checks, and redacts nothing", async () => {
    const product = newProduct();
    expect((await putSettings(product, { destinations: [autoplay] })).status).toBe(200);
    await postActions(batch(product, "s1", 0, 2, { user_id: "u-1" }));
    await postActions(batch(product, "s1", 2, 2));
    await settle(product, "s1");
    expect(received.map((r) => r.json.type)).toEqual(["actions", "actions", "summary"]);
    for (const r of received) {
      expect(r.signatureValid).toBe(true);
      expect(r.headers.get("authorization")).toBe(`Bearer ${SECRET}`);
      expect(r.headers.get("content-type")).toBe("application/json");
    }
    expect(received[0]!.json).toMatchObject({ type: "actions", product_id: product, session_id: "s1", user_id: "u-1", count: 2 });
    expect(received[2]!.json).toMatchObject({ type: "summary", product_id: product, session_id: "s1", replaces: 4 });
    // The raw notes (the two batches may share one, as they came in one burst) are redacted in the
    // session's lane, with no call to the receiver.
    const { counters } = (await getState(product, "s1")).body.lanes[0];
    expect(counters.summary_notes_posted).toBe(1);
    expect(counters.redactions).toBe(counters.raw_notes_posted);
    expect(received).toHaveLength(3);
  });

  it("sends the same JSON as the stream of the same product", async () => {
    const product = newProduct();
    expect((await putSettings(product, { destinations: [{ type: "stream" }, autoplay] })).status).toBe(200);
    const client = new SseClient(await openStream(product));
    await postActions(batch(product, "s1", 0, 4));
    await settle(product, "s1");
    await client.until((f) => f.some((x) => x.json?.type === "summary"));
    const strip = ({ forwarded_at: _at, ...rest }: Record<string, unknown>) => rest;
    expect(client.payloads().map((f) => strip(f.json!))).toEqual(received.map((r) => strip(r.json)));
    await client.close();
  });

  it("retries a failing receiver (5xx) and delivers once; parks on a 4xx until a flush retries it", async () => {
    const product = newProduct();
    expect((await putSettings(product, { destinations: [autoplay] })).status).toBe(200);
    answers = [503];
    await postActions(batch(product, "s1", 0, 1));
    await settle(product, "s1");
    let state = (await getState(product, "s1")).body;
    expect(state.step).toMatchObject({ kind: "deliver", attempts: 1, last_error: "autoplay forward_url answered 503", parked: false });
    await makeStepsDue(product, "s1");
    await settle(product, "s1");
    expect(received.map((r) => r.json.count)).toEqual([1]);

    // A 4xx is the receiver refusing the payload: the step parks at once, nothing is dropped.
    answers = [400];
    await postActions(batch(product, "s1", 1, 1));
    await settle(product, "s1");
    state = (await getState(product, "s1")).body;
    expect(state.step).toMatchObject({ kind: "deliver", last_error: "autoplay forward_url answered 400", parked: true });
    expect(received).toHaveLength(1);
    expect((await request(sessionPath(product, "s1", "/flush"), { method: "POST", headers: auth })).status).toBe(202);
    await settle(product, "s1");
    const actions = received.filter((r) => r.json.type === "actions");
    expect(actions.map((r) => (r.json.actions as { index: number }[])[0]!.index)).toEqual([0, 1]);
    // The flush closed the window below K: its summary follows the actions it covers.
    expect(received.map((r) => r.json.type)).toEqual(["actions", "actions", "summary"]);
    expect(received[2]!.json.replaces).toBe(2);
  });

  it("refuses a product destination with an inline secret or an unset one (422, nothing stored)", async () => {
    const product = newProduct();
    const inline = await putSettings(product, { destinations: [{ ...autoplay, secret: "plain" }] });
    expect(inline.status).toBe(422);
    const unset = await putSettings(product, { destinations: [{ ...autoplay, secret: { env: "NOT_SET_ANYWHERE" } }] });
    expect(unset.status).toBe(422);
    expect(JSON.stringify(await unset.json())).toContain("destinations[0].secret");
    const badUrl = await putSettings(product, { destinations: [{ ...autoplay, forward_url: "ftp://x" }] });
    expect(badUrl.status).toBe(422);
    expect(JSON.stringify(await badUrl.json())).toContain("destinations[0].forward_url");
    expect((await request(`/v1/products/${product}`, { headers: auth })).status).toBe(200);
  });
});
