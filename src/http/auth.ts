/**
 * @module
 * API-token auth for `/v1/*`: `Authorization: Bearer <API_TOKEN>`, compared in constant time.
 * With no API_TOKEN configured every request is refused (the service never falls open).
 * `POST /v1/actions` also accepts the Autoplay connector's `X-Connector-Signature` (HMAC of the
 * raw body with CONNECTOR_SECRET), so a connector in push mode can forward to us unchanged.
 */
import type { MiddlewareHandler } from "hono";
import { loadConfig } from "../config";
import { constantTimeEqual, verifyConnectorSignature } from "../sources/signatures";
import type { AppEnv } from "./app";
import { ApiError } from "./errors";

export interface ApiTokenOptions {
  /** Accept `X-Connector-Signature: sha256=<hex>` as an alternative credential. Default false. */
  allowConnectorSignature?: boolean;
}

/**
 * @param options.allowConnectorSignature accept the connector's HMAC signature instead (default false)
 * @example app.use("/v1/*", requireApiToken())
 */
export function requireApiToken(options: ApiTokenOptions = {}): MiddlewareHandler<AppEnv> {
  return async function requireApiToken(c, next) {
    const signature = c.req.header("x-connector-signature");
    if (options.allowConnectorSignature && signature !== undefined) {
      const secret = loadConfig(c.env).access.connectorSecret;
      if (!secret) throw new ApiError(401, "unauthorized", "connector signatures are not enabled (CONNECTOR_SECRET is not set)");
      const raw = await c.req.text();
      if (!(await verifyConnectorSignature(signature, raw, secret))) {
        throw new ApiError(401, "invalid_signature", "X-Connector-Signature does not match the request body");
      }
      return next();
    }
    const token = loadConfig(c.env).access.apiToken;
    if (!token) throw new ApiError(503, "not_configured", "API_TOKEN is not configured; the API refuses all requests");
    const header = c.req.header("authorization") ?? "";
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (!given) {
      throw new ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer <API_TOKEN>)", {
        "www-authenticate": 'Bearer realm="context-relay"',
      });
    }
    if (!(await constantTimeEqual(given, token))) throw new ApiError(401, "unauthorized", "invalid API token");
    return next();
  };
}
