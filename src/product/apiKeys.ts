/**
 * @module
 * Scoped API keys: `crk_<id>_<secret>`. The id finds the key; the secret (32 random bytes,
 * base64url) is shown once and only its SHA-256 is stored, so a stolen registry yields no key.
 * Verification hashes what was given and compares in constant time. WebCrypto only (Node and workerd).
 */

const PREFIX = "crk_";
const ID_BYTES = 9;
const SECRET_BYTES = 32;
/** `crk_` + 12 base64url characters of id + `_` + 43 of secret. */
const KEY_PATTERN = /^crk_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const randomBytes = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** Lowercase hex SHA-256 of the secret part: what the registry stores. */
export async function secretHash(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new key: its id, the full key (to show once) and the hash to store. */
export async function generateKey(): Promise<{ id: string; key: string; hash: string }> {
  // An id of base64url may contain "_": the pattern splits on fixed lengths, not on "_".
  const id = base64url(randomBytes(ID_BYTES));
  const secret = base64url(randomBytes(SECRET_BYTES));
  return { id, key: `${PREFIX}${id}_${secret}`, hash: await secretHash(secret) };
}

/** The id and secret of a well-formed key, or null (not a key: maybe the root token). */
export function parseKey(given: string): { id: string; secret: string } | null {
  const m = KEY_PATTERN.exec(given);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

export const looksLikeKey = (given: string): boolean => given.startsWith(PREFIX);

/** Whether `secret` hashes to `storedHash`, compared in time independent of where they differ. */
export async function secretMatches(secret: string, storedHash: string): Promise<boolean> {
  const given = await secretHash(secret);
  if (given.length !== storedHash.length) return false;
  let diff = 0;
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ storedHash.charCodeAt(i);
  return diff === 0;
}
