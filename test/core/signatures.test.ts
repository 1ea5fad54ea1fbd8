import { describe, expect, it } from "vitest";
import { ConfigError, posthogSecretFor, readPosthogSecrets, type Vars } from "../../src/config";
import { constantTimeEqual, hmacSha256Hex, verifyConnectorSignature, verifyPosthogSecret, verifySha256Header } from "../../src/sources/signatures";

// Cross-checked with Python: hmac.new(key, body, hashlib.sha256).hexdigest()
const BODY = '{"batch":[{"event":"$pageview","title":"Café"}]}';
const SECRET = "whsec_test";
const BODY_HMAC = "9a520e5698bd3458db758ce07b8ce20ba84d826ba8ecb620b9ff82d1fa3b35b5";
// The same body under an empty key: what a fall-open receiver would accept (WebCrypto refuses to compute it).
const EMPTY_KEY_HMAC = "1a952017c4344d85512d956aac5c0121ccace90d612007fc13ac9dd2b3d7224a";

describe("hmacSha256Hex", () => {
  it("matches RFC 4231 test case 2", async () => {
    expect(await hmacSha256Hex("Jefe", "what do ya want for nothing?")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("signs the UTF-8 bytes of a string, same as the bytes themselves", async () => {
    expect(await hmacSha256Hex(SECRET, BODY)).toBe(BODY_HMAC);
    expect(await hmacSha256Hex(SECRET, new TextEncoder().encode(BODY))).toBe(BODY_HMAC);
  });
});

describe("constantTimeEqual", () => {
  it.each([
    ["abc", "abc", true],
    ["abc", "abd", false],
    ["abc", "abcd", false],
    ["", "", true],
    ["", "a", false],
  ])("%j vs %j → %s", async (a, b, expected) => {
    expect(await constantTimeEqual(a, b)).toBe(expected);
  });
});

describe("verifySha256Header", () => {
  it("accepts the right HMAC in either hex case and rejects anything else", async () => {
    expect(await verifySha256Header(`sha256=${BODY_HMAC}`, BODY, SECRET)).toBe(true);
    expect(await verifySha256Header(`sha256=${BODY_HMAC.toUpperCase()}`, BODY, SECRET)).toBe(true);
    expect(await verifySha256Header(` sha256=${BODY_HMAC} `, BODY, SECRET)).toBe(true);
    expect(await verifySha256Header(`sha256=${BODY_HMAC}`, BODY + " ", SECRET)).toBe(false);
    expect(await verifySha256Header(`sha256=${BODY_HMAC}`, BODY, "other")).toBe(false);
    expect(await verifySha256Header(BODY_HMAC, BODY, SECRET)).toBe(false); // prefix required
    expect(await verifySha256Header(`sha1=${BODY_HMAC}`, BODY, SECRET)).toBe(false);
    expect(await verifySha256Header(`sha256=${BODY_HMAC.slice(2)}`, BODY, SECRET)).toBe(false);
    expect(await verifySha256Header(`sha256=${"zz".repeat(32)}`, BODY, SECRET)).toBe(false);
    expect(await verifySha256Header(null, BODY, SECRET)).toBe(false);
    expect(await verifySha256Header(`sha256=${BODY_HMAC}`, BODY, "")).toBe(false);
  });
});

describe("verifyPosthogSecret", () => {
  it("accepts the plain secret (Hog/CDP header) and sha256=<hmac> (native webhooks)", async () => {
    expect(await verifyPosthogSecret(SECRET, BODY, SECRET)).toBe(true);
    expect(await verifyPosthogSecret(`  ${SECRET}\n`, BODY, `${SECRET}\n`)).toBe(true);
    expect(await verifyPosthogSecret(`sha256=${BODY_HMAC}`, BODY, SECRET)).toBe(true);
  });

  it("rejects a wrong secret, a wrong HMAC, a prefix of the secret, and a missing header", async () => {
    expect(await verifyPosthogSecret("whsec_tesT", BODY, SECRET)).toBe(false);
    expect(await verifyPosthogSecret("whsec_tes", BODY, SECRET)).toBe(false);
    expect(await verifyPosthogSecret(`sha256=${"0".repeat(64)}`, BODY, SECRET)).toBe(false);
    expect(await verifyPosthogSecret(undefined, BODY, SECRET)).toBe(false);
    expect(await verifyPosthogSecret("", BODY, SECRET)).toBe(false);
  });

  it("refuses everything when no secret is configured (never falls open)", async () => {
    for (const configured of [undefined, null, "", "   "]) {
      expect(await verifyPosthogSecret("", BODY, configured)).toBe(false);
      expect(await verifyPosthogSecret("   ", BODY, configured)).toBe(false);
      expect(await verifyPosthogSecret("anything", BODY, configured)).toBe(false);
      // The HMAC of the body under an empty key must not pass either.
      expect(await verifyPosthogSecret(`sha256=${EMPTY_KEY_HMAC}`, BODY, configured)).toBe(false);
    }
  });
});

describe("verifyConnectorSignature", () => {
  it("accepts sha256=<hmac> only", async () => {
    expect(await verifyConnectorSignature(`sha256=${BODY_HMAC}`, BODY, SECRET)).toBe(true);
    expect(await verifyConnectorSignature(SECRET, BODY, SECRET)).toBe(false); // the plain secret is not a signature
    expect(await verifyConnectorSignature(`sha256=${BODY_HMAC}`, `${BODY}\n`, SECRET)).toBe(false);
    expect(await verifyConnectorSignature(null, BODY, SECRET)).toBe(false);
  });

  it("refuses everything when CONNECTOR_SECRET is empty, unlike the Python WebhookReceiver", async () => {
    expect(await verifyConnectorSignature(`sha256=${EMPTY_KEY_HMAC}`, BODY, "")).toBe(false);
    expect(await verifyConnectorSignature(undefined, BODY, undefined)).toBe(false);
  });
});

describe("the PostHog secret lookup", () => {
  const resolvePosthogSecret = (vars: Vars, productId: string) => posthogSecretFor(readPosthogSecrets(vars), productId);

  it("prefers the per-product map, then the shared secret", () => {
    const env = { POSTHOG_WEBHOOK_SECRETS: '{"acme":"s-acme","globex":"s-globex"}', POSTHOG_WEBHOOK_SECRET: "s-shared" };
    expect(resolvePosthogSecret(env, "acme")).toEqual({ ok: true, secret: "s-acme" });
    expect(resolvePosthogSecret(env, "initech")).toEqual({ ok: true, secret: "s-shared" });
    expect(resolvePosthogSecret({ POSTHOG_WEBHOOK_SECRET: " s-shared\n" }, "x")).toEqual({ ok: true, secret: "s-shared" });
  });

  it("is not_configured with no secret, and for a product whose map entry is blank", () => {
    expect(resolvePosthogSecret({}, "acme")).toEqual({ ok: false, reason: "not_configured" });
    expect(resolvePosthogSecret({ POSTHOG_WEBHOOK_SECRET: "" }, "acme")).toEqual({ ok: false, reason: "not_configured" });
    expect(resolvePosthogSecret({ POSTHOG_WEBHOOK_SECRETS: '{"acme":""}', POSTHOG_WEBHOOK_SECRET: "s-shared" }, "acme")).toEqual({
      ok: false,
      reason: "not_configured",
    });
  });

  it("never reads inherited properties as secrets", () => {
    const env = { POSTHOG_WEBHOOK_SECRETS: '{"acme":"s-acme"}' };
    expect(resolvePosthogSecret(env, "constructor")).toEqual({ ok: false, reason: "not_configured" });
    expect(resolvePosthogSecret(env, "__proto__")).toEqual({ ok: false, reason: "not_configured" });
    expect(resolvePosthogSecret(env, "toString")).toEqual({ ok: false, reason: "not_configured" });
  });

  it.each(["not json", "[]", '"s"', '{"acme":42}', "null"])("is misconfigured for POSTHOG_WEBHOOK_SECRETS=%s", (map) => {
    const read = () => readPosthogSecrets({ POSTHOG_WEBHOOK_SECRETS: map, POSTHOG_WEBHOOK_SECRET: "s-shared" });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow("POSTHOG_WEBHOOK_SECRETS is not a JSON object of product ids to secrets");
  });
});
