/**
 * @module
 * `GET /console` (the page shell, Hono JSX) and `GET /console/app.js` (its script), public: neither
 * holds a secret or any data. The script reads the key from sessionStorage and calls the JSON API,
 * which checks it per route (read scope to look, admin to act). The CSP allows only this origin's
 * script and API, so injected markup could not run even if it were ever parsed.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ConsolePage } from "../console/page";
import { CONSOLE_SCRIPT } from "../console/script";
import type { App } from "../http/app";

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const routes = {
  page: createRoute({
    method: "get",
    path: "/console",
    summary: "The console (HTML): sessions, timelines and actions in a browser",
    responses: { 200: { description: "The page shell", content: { "text/html": { schema: z.string() } } } },
  }),
  script: createRoute({
    method: "get",
    path: "/console/app.js",
    summary: "The console's script",
    responses: { 200: { description: "JavaScript", content: { "text/javascript": { schema: z.string() } } } },
  }),
};

export function registerConsole(app: App): void {
  app.openapi(routes.page, (c) => c.html(`<!doctype html>${ConsolePage()}`, 200, SECURITY_HEADERS));
  app.openapi(routes.script, (c) =>
    c.body(CONSOLE_SCRIPT, 200, { ...SECURITY_HEADERS, "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }),
  );
}
