/**
 * Helpers for the products tests: scoped keys, product settings and the session index, through
 * the Worker as a client would call them.
 */
import { env } from "cloudflare:workers";
import { auth, request } from "./api";

export type Json = Record<string, unknown>;

export async function json(res: Response): Promise<{ status: number; body: Json }> {
  return { status: res.status, body: (await res.json()) as Json };
}

/** A key made by root; its full `crk_…` value and its id. */
export async function createKey(name: string, products: "*" | string[], scopes: string[]): Promise<{ id: string; key: string }> {
  const res = await request("/v1/keys", { method: "POST", headers: auth, body: JSON.stringify({ name, products, scopes }) });
  if (res.status !== 201) throw new Error(`key not created: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { id: string; key: string };
  return { id: body.id, key: body.key };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });

export function putSettings(productId: string, settings: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return request(`/v1/products/${productId}`, { method: "PUT", headers, body: JSON.stringify(settings) });
}

export async function listSessions(path: string): Promise<{ status: number; body: { sessions: Json[]; next_cursor: string | null } & Json }> {
  const res = await request(path, { headers: auth });
  return { status: res.status, body: (await res.json()) as { sessions: Json[]; next_cursor: string | null } & Json };
}

export const productStub = (productId: string) => env.PRODUCT.getByName(productId);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Longer than the test project's KEY_CACHE_TTL_MS and SETTINGS_CACHE_TTL_MS (300 ms). */
export const PAST_CACHE_TTL_MS = 400;

/** The workers-products project's own secrets (vitest.config.ts `productBindings`), which `Env` does not declare. */
export const projectSecrets = env as unknown as Record<"WEBHOOK_SECRET_B" | "CONNECTOR_SECRET_ACME" | "POSTHOG_SECRET_ACME" | "INTERCOM_TOKEN_ACME", string>;
