/**
 * @module
 * Shared-secret and HMAC-SHA256 checks for webhook-style ingest, on WebCrypto only (the same code
 * runs in Node 22 and workerd). Unlike the Python SDK's `WebhookReceiver`, an empty or missing
 * configured secret refuses every request: a forgotten setting must never open the door.
 */

const encoder = new TextEncoder();

function bytes(data: string | Uint8Array): BufferSource {
  return typeof data === "string" ? encoder.encode(data) : data;
}

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

function toHex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Lowercase hex HMAC-SHA256 of `body` keyed by `secret` (the value after `sha256=`). */
export async function hmacSha256Hex(secret: string, body: string | Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), bytes(body)));
}

/**
 * Compares two strings in time independent of where they differ and of their lengths: both are
 * hashed first, so the loop always runs over 32 bytes and leaks neither content nor length.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = a.length === b.length ? 0 : 1;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

const SHA256_HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Checks a `sha256=<hex>` header against the HMAC-SHA256 of the raw body. Hex is accepted in
 * either case; the comparison is WebCrypto's own constant-time `verify`.
 */
export async function verifySha256Header(header: string | null | undefined, body: string | Uint8Array, secret: string): Promise<boolean> {
  const m = SHA256_HEADER.exec((header ?? "").trim());
  if (!m || secret === "") return false;
  const mac = new Uint8Array(32);
  for (let i = 0; i < 32; i++) mac[i] = parseInt(m[1]!.slice(i * 2, i * 2 + 2), 16);
  return crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), mac, bytes(body));
}

/**
 * `X-PostHog-Secret`: either the plain secret (PostHog CDP / Hog destinations put it in a header,
 * compared in constant time) or `sha256=<hex HMAC-SHA256 of the raw body>`. Surrounding
 * whitespace is ignored on both sides. A missing header or an empty/undefined `secret` is false.
 */
export async function verifyPosthogSecret(
  header: string | null | undefined,
  rawBody: string | Uint8Array,
  secret: string | null | undefined,
): Promise<boolean> {
  const configured = (secret ?? "").trim();
  const given = (header ?? "").trim();
  if (configured === "" || given === "") return false;
  if (await constantTimeEqual(given, configured)) return true;
  return verifySha256Header(given, rawBody, configured);
}

/**
 * `X-Connector-Signature: sha256=<hex HMAC-SHA256 of the raw body>` as the Autoplay connector's
 * push mode sends it (key = the connector's forward secret, our `CONNECTOR_SECRET`).
 * A missing header or an empty/undefined `secret` is false.
 */
export async function verifyConnectorSignature(
  header: string | null | undefined,
  rawBody: string | Uint8Array,
  secret: string | null | undefined,
): Promise<boolean> {
  const configured = (secret ?? "").trim();
  if (configured === "") return false;
  return verifySha256Header(header, rawBody, configured);
}
