/**
 * fast-check generators of hostile requests to every route: ids (lone surrogates, C0/C1 controls,
 * `.`/`..`, huge), bodies (near-valid, arbitrary JSON, not JSON, huge, deeply nested), and headers
 * (credentials right, wrong or missing; content types JSON or not). Ids are drawn mostly from a
 * small pool, so requests keep landing on the same sessions and a refused one can be checked
 * against the state the others built. Header values stay printable ASCII: anything else would be
 * refused by the test's own `Headers`, never reaching the Worker.
 */
import fc from "fast-check";

export const PRODUCT = "fz";
export const POOL_SESSIONS = ["fz-a", "fz-b", "fz-c"] as const;
export const PUBLISHABLE_KEY = "pk_fz";
export const ALLOWED_ORIGIN = "https://app.fz.test";
const TOKEN = "test-api-token";
const POSTHOG_SECRET = "test-posthog-secret";

/** One generated request, with the pool sessions it names (the only ones it may change). */
export interface FuzzRequest {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  touched: string[];
}

const char = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f).map((c) => String.fromCharCode(c)) },
);
const hostileString = fc.oneof(
  fc.string({ unit: char, maxLength: 12 }),
  fc.constantFrom(".", "..", "", " ", "s\ud800", "\udfffs", "s\u0085", "s\u0000", "../../admins", "a/b", "%2e%2e", "x".repeat(300)),
);

/** An id: mostly a pool session (then recorded as touched), else hostile. */
const sessionId = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...POOL_SESSIONS) }, { weight: 2, arbitrary: hostileString });
const productId = fc.oneof({ weight: 5, arbitrary: fc.constant(PRODUCT) }, { weight: 1, arbitrary: hostileString });
const conversationId = fc.oneof(fc.constantFrom("c-1", "c-2", "215471234567890"), fc.nat(), hostileString, fc.jsonValue({ maxDepth: 1 }));

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant("application/json") },
  {
    weight: 3,
    arbitrary: fc.constantFrom("application/json; charset=utf-8", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "", "application/vnd.x+json", "application/json;", "APPLICATION/JSON", "multipart/form-data"),
  },
  { weight: 1, arbitrary: printable },
);
const bearer = fc.oneof({ weight: 8, arbitrary: fc.constant(`Bearer ${TOKEN}`) }, { weight: 1, arbitrary: fc.constantFrom("", "Bearer nope", TOKEN) }, { weight: 1, arbitrary: printable });

const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(-1, 0, 1e300, -1e300, 1_700_000_000));
const loose = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

const action = fc.record(
  {
    title: loose(fc.oneof(fc.string({ maxLength: 20 }), fc.constant("t".repeat(501)))),
    description: loose(fc.oneof(fc.string({ maxLength: 40 }), hostileString, fc.constant("d".repeat(4_000)))),
    canonical_url: loose(fc.webUrl()),
    type: loose(fc.constantFrom("click", "pageview", "")),
    index: loose(number),
    timestamp_start: loose(number),
    timestamp_end: loose(number),
    session_id: loose(sessionId),
    user_id: loose(hostileString),
    conversation_id: loose(conversationId),
  },
  { requiredKeys: [] },
);

const actionsBatch = fc.record(
      {
        type: fc.oneof({ weight: 8, arbitrary: fc.constant("actions") }, { weight: 1, arbitrary: fc.constantFrom("summary", "other") }),
        product_id: productId,
        session_id: sessionId,
        user_id: hostileString,
        conversation_id: conversationId,
        forwarded_at: number,
        actions: fc.oneof(
          { weight: 8, arbitrary: fc.array(action, { maxLength: 6 }) },
          { weight: 1, arbitrary: fc.constantFrom(null, "clicks", {}) },
          { weight: 1, arbitrary: fc.integer({ min: 490, max: 520 }).map((n) => Array.from({ length: n }, () => ({ title: "t" }))) },
        ),
      },
  { requiredKeys: ["type", "product_id", "session_id"] },
);

/** Bodies that are not JSON, are too large, or are nested deeper than any schema reads. */
const oddBody = fc.constantFrom("", "{not json", "null", "[]", "1e999", "\ud800", "[".repeat(20_000) + "]".repeat(20_000), JSON.stringify({ pad: "x".repeat(1_100_000) }));

const jsonBody = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 8, arbitrary: valid.map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: oddBody });

const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // a lone surrogate: the URL parser writes it as U+FFFD
  }
};
const sessionPathOf = (p: string, s: string) => `/v1/products/${encode(p)}/sessions/${encode(s)}`;
/** The pool sessions a request names anywhere (path or body): an over-estimate of what it may change. */
function request(route: string, method: string, path: string, headers: Record<string, string>, body?: string): FuzzRequest {
  const touched = POOL_SESSIONS.filter((s) => path.includes(s) || (body ?? "").includes(s));
  return { route, method, path, headers, body, touched };
}

const postActions = fc
  .tuple(bearer, contentType, fc.option(printable, { nil: undefined }), jsonBody(fc.oneof(actionsBatch, fc.array(actionsBatch, { maxLength: 4 }))))
  .map(([authorization, type, key, text]) =>
    request("POST /v1/actions", "POST", "/v1/actions", { authorization, "content-type": type, ...(key === undefined ? {} : { "idempotency-key": key }) }, text),
  );

const sessionRoute = fc
  .tuple(productId, sessionId, fc.constantFrom("state", "context", "link", "flush", "erase"), bearer, contentType, conversationId, fc.option(hostileString, { nil: undefined }))
  .map(([p, s, kind, authorization, type, conversation, query]) => {
    const base = sessionPathOf(p, s);
    switch (kind) {
      case "state":
        return request("GET session", "GET", base, { authorization });
      case "context":
        return request("GET context", "GET", `${base}/context${query === undefined ? "" : `?query=${encode(query)}`}`, { authorization });
      case "link":
        return request("PUT link", "PUT", `${base}/link`, { authorization, "content-type": type }, JSON.stringify({ conversation_id: conversation }));
      case "flush":
        return request("POST flush", "POST", `${base}/flush`, { authorization });
      default:
        return request("DELETE session", "DELETE", base, { authorization });
    }
  });

const timestamp = fc.oneof(fc.constantFrom("2025-03-04T10:00:00Z", "2025-03-04 10:00:01.123", "yesterday", ""), number);

const event = fc.record(
    {
      uuid: fc.oneof(fc.uuid(), hostileString),
      event: fc.constantFrom("$pageview", "$autocapture", "$identify", "Report Exported", ""),
      timestamp,
      distinct_id: hostileString,
      properties: fc.record({ $session_id: sessionId, $current_url: fc.oneof(fc.webUrl(), hostileString), $el_text: hostileString }, { requiredKeys: [] }),
      elements_chain: fc.oneof(fc.constant('button.btn:text="Go"nth-child="1"'), hostileString),
    },
    { requiredKeys: ["event"] },
  );
const posthog = fc
  .tuple(productId, fc.constantFrom(POSTHOG_SECRET, "wrong", ""), contentType, jsonBody(fc.oneof(fc.record({ batch: fc.array(event, { maxLength: 5 }) }), event)))
  .map(([p, secret, type, text]) => request("POST /webhook", "POST", `/webhook/${encode(p)}`, { "x-posthog-secret": secret, "content-type": type }, text));

const call = fc.record(
    {
      type: fc.constantFrom("track", "page", "screen", "identify", "other"),
      messageId: fc.oneof(fc.uuid(), hostileString),
      userId: sessionId,
      event: fc.oneof(fc.constant("Plan Selected"), hostileString),
      timestamp,
      properties: fc.record({ url: fc.oneof(fc.webUrl(), hostileString), session_id: sessionId }, { requiredKeys: [] }),
    },
    { requiredKeys: ["type"] },
  );
const segment = fc
  .tuple(productId, bearer, contentType, jsonBody(fc.oneof(fc.record({ batch: fc.array(call, { maxLength: 5 }) }), call)))
  .map(([p, authorization, type, text]) => request("POST /v1/segment", "POST", `/v1/segment/${encode(p)}`, { authorization, "content-type": type }, text));

const sessionLink = fc
  .tuple(productId, sessionId, conversationId, fc.constantFrom(PUBLISHABLE_KEY, "pk_wrong", ""), contentType, fc.constantFrom(ALLOWED_ORIGIN, "https://evil.test", ""))
  .map(([p, s, conversation, key, type, origin]) =>
    request(
      "POST /sessions/link",
      "POST",
      "/sessions/link",
      { "x-publishable-key": key, "content-type": type, ...(origin ? { origin } : {}) },
      JSON.stringify({ product_id: p, session_id: s, conversation_id: conversation }),
    ),
  );

const service = fc.constantFrom("/healthz", "/openapi.json", "/nope").map((path) => request(`GET ${path}`, "GET", path, {}));

const userActivity = fc
  .tuple(productId, sessionId, bearer, fc.option(fc.oneof(fc.constantFrom("1", "50", "51", "0", "-1", "2.5", "1e3"), hostileString), { nil: undefined }))
  .map(([p, u, authorization, limit]) =>
    request("GET user activity", "GET", `/v1/products/${encode(p)}/users/${encode(u)}/activity${limit === undefined ? "" : `?limit=${encode(limit)}`}`, { authorization }),
  );

const toolArguments = fc.record(
  { product_id: loose(productId), user_id: loose(sessionId), session_id: loose(sessionId), limit: loose(fc.oneof(fc.integer({ min: -5, max: 300 }), number)), query: loose(hostileString) },
  { requiredKeys: [] },
);
const jsonRpc = fc.record(
  {
    jsonrpc: fc.constantFrom("2.0", "1.0"),
    id: fc.oneof(fc.nat(), printable),
    method: fc.oneof(fc.constantFrom("initialize", "tools/list", "tools/call", "server/discover", "ping", "notifications/initialized"), hostileString),
    params: loose(
      fc.record({
        name: fc.oneof(fc.constantFrom("get_live_user_activity", "get_session_context", "list_user_sessions"), hostileString),
        arguments: loose(toolArguments),
        protocolVersion: fc.constantFrom("2025-06-18", "2025-11-25", "2026-07-28", "1999-01-01"),
      }),
    ),
  },
  { requiredKeys: ["jsonrpc", "method"] },
);
const mcp = fc
  .tuple(bearer, fc.constantFrom("application/json, text/event-stream", "application/json", "text/event-stream", "", "*/*"), contentType, fc.option(fc.constantFrom("2025-06-18", "2026-07-28", "nope"), { nil: undefined }), jsonBody(fc.oneof(jsonRpc, fc.array(jsonRpc, { maxLength: 3 }))))
  .map(([authorization, accept, type, version, text]) =>
    request("POST /mcp", "POST", "/mcp", { authorization, accept, "content-type": type, ...(version === undefined ? {} : { "mcp-protocol-version": version }) }, text),
  );

/** A request to any route, the ingest and session routes most often. */
export const anyRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 5, arbitrary: postActions },
  { weight: 4, arbitrary: sessionRoute },
  { weight: 3, arbitrary: posthog },
  { weight: 2, arbitrary: segment },
  { weight: 2, arbitrary: sessionLink },
  { weight: 1, arbitrary: service },
  { weight: 1, arbitrary: userActivity },
  { weight: 2, arbitrary: mcp },
);
