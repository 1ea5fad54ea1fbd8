/**
 * @module
 * URL canonicalisation for event sources: one URL per page *kind*, so that "/projects/123" and
 * "/projects/456" read as the same page to a summariser and a support agent, and so that query
 * strings (which often carry tokens, emails, search terms) never reach a destination.
 */

/** Longest URL kept; anything longer is cut so one event cannot blow the action size limits. */
export const MAX_URL_LENGTH = 2048;

const INTEGER = /^\d+$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const LONG_HEX = /^[0-9a-f]{12,}$/i;
// Opaque tokens (ULIDs, nanoids, base64 ids): long, URL-safe and with at least one digit, which
// keeps long plain words and slugs such as "account-settings-overview" readable.
const OPAQUE_TOKEN = /^(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{16,}$/;
// Prefixed ids in the Stripe style: "cus_NffrFeUfNV2Hib", "inv_8Hd72kd91".
const PREFIXED_ID = /^[a-z]{2,8}_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}$/;
// An email address in a path is an id too, and personal data besides.
const EMAIL = /^[^@/\s]+@[^@/\s]+\.[^@/\s]+$/;

/**
 * True when a path segment is a dynamic id: an integer, a UUID, hex of 12+ characters (Mongo
 * ObjectIds, hashes), a 16+ character URL-safe token containing a digit, a Stripe-style
 * `prefix_token`, or an email address.
 */
export function isIdSegment(segment: string): boolean {
  const s = safeDecode(segment);
  return INTEGER.test(s) || UUID.test(s) || LONG_HEX.test(s) || OPAQUE_TOKEN.test(s) || PREFIXED_ID.test(s) || EMAIL.test(s);
}

/** Replaces id segments of a path with `:id`, drops empty segments and the trailing slash. */
export function collapsePath(path: string): string {
  const segments = path.split("/").filter((s) => s !== "");
  if (segments.length === 0) return "/";
  return "/" + segments.map((s) => (isIdSegment(s) ? ":id" : s)).join("/");
}

/**
 * Canonical form of a page URL: scheme and lowercase host kept, credentials, query string and
 * fragment dropped, id segments collapsed to `:id`, no trailing slash. A hash-router route
 * (`#/…` or `#!/…`) is the real page in a single-page app, so it is kept (canonicalised the same
 * way). A relative URL ("/dashboard?x=1") gives a canonical path. Empty input gives "".
 */
export function canonicalizeUrl(raw: string): string {
  const input = raw.trim();
  if (input === "") return "";
  let url: URL;
  let relative = false;
  try {
    url = new URL(input);
  } catch {
    try {
      // A base only to parse a relative reference; it never appears in the result.
      url = new URL(input, "http://relative.invalid");
      relative = true;
    } catch {
      return input.split(/[?#]/, 1)[0]!.slice(0, MAX_URL_LENGTH);
    }
  }
  // Hostless schemes (about:blank, data:, mailto:) have no path to canonicalise.
  if (!relative && url.host === "") return input.split(/[?#]/, 1)[0]!.slice(0, MAX_URL_LENGTH);
  const origin = relative ? "" : `${url.protocol}//${url.host.toLowerCase()}`;
  return (origin + collapsePath(url.pathname) + hashRoute(url.hash)).slice(0, MAX_URL_LENGTH);
}

function hashRoute(hash: string): string {
  const m = /^#(!?)(\/[^?]*)/.exec(hash);
  if (!m) return "";
  const route = collapsePath(m[2]!);
  return route === "/" ? "" : `#${m[1]}${route}`;
}

/**
 * A short, human page name from a URL, for descriptions such as "on the Billing page": the
 * last path segment that is not an id, words separated and the first letter capitalised
 * ("/settings/billing-info" → "Billing info", "/projects/42" → "Projects", "/" → "Home"), with
 * its parent when the last segment is generic ("/reports/:id/edit" → "Reports › Edit").
 * A hash-router route wins over the path. Returns "" for an empty URL.
 */
export function pageNameFromUrl(raw: string): string {
  const canonical = canonicalizeUrl(raw);
  if (canonical === "") return "";
  const hashAt = canonical.indexOf("#");
  const withoutOrigin = canonical.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/#]*/i, "");
  const path = hashAt >= 0 ? canonical.slice(hashAt).replace(/^#!?/, "") : withoutOrigin;
  const segments = path
    .split("/")
    .filter((s) => s !== "" && s !== ":id")
    .map((s) => safeDecode(s).replace(/\.(html?|php|aspx?|jsp)$/i, ""));
  if (segments.length > 0 && /^(index|default|home)$/i.test(segments.at(-1)!)) segments.pop();
  const last = segments.at(-1);
  if (last === undefined) return "Home";
  const parent = segments.at(-2);
  const name = GENERIC_LAST.test(last) && parent ? `${words(parent)} \u203a ${words(last)}` : words(last);
  return name === "" ? "Home" : name;
}

const GENERIC_LAST = /^(edit|new|create|view|show|details?|overview|list|preview)$/i;

function words(segment: string): string {
  const w = segment.replace(/[-_+.]+/g, " ").replace(/\s+/g, " ").trim();
  return w.charAt(0).toUpperCase() + w.slice(1);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
