/**
 * The campaign's two destinations per session: every product delivers to two webhook URLs the
 * fake world serves, each its own lane. Requests to the faulty one misbehave as the seed says
 * (test/world/faults.ts); the healthy one never fails, so the faulty lane must never delay it.
 * The two products list them in opposite orders, so neither lane's place in the list matters.
 */
import { env } from "cloudflare:workers";
import { loadConfig, need } from "../../src/config";
import { auth, request } from "../helpers/api";
import { destinationOf } from "../world";

export const HEALTHY_URL = "https://hooks.test/relay";
export const FAULTY_URL = "https://faulty.hooks.test/relay";
export const DESTINATION_URLS = [HEALTHY_URL, FAULTY_URL] as const;
/** The faulty destination as the world names it (host and path). */
export const FAULTY = destinationOf(FAULTY_URL);

/** Both sign with the Worker's own WEBHOOK_SECRET, which the world's receivers verify. */
const entry = (url: string, delivery: "append" | "replace") => ({ type: "webhook", url, secret: { env: "WEBHOOK_SECRET" }, delivery });

/**
 * In rolling mode each product runs one lane in each delivery mode, the faulty one replacing in one
 * product and appending in the other (README "Delivery modes"); replace needs rolling summaries.
 */
const rolling = need(loadConfig(env).core).mode === "rolling";
const DELIVERY: Record<string, readonly ("append" | "replace")[]> = {
  "p-alpha": rolling ? ["append", "replace"] : ["append", "append"],
  "p-beta": rolling ? ["append", "replace"] : ["append", "append"],
};

export const PRODUCT_DESTINATIONS: Record<string, readonly string[]> = {
  "p-alpha": [HEALTHY_URL, FAULTY_URL],
  "p-beta": [FAULTY_URL, HEALTHY_URL],
};

/** Gives each product its two destinations (K and the mode stay the project's, from its bindings). */
export async function configureProducts(): Promise<void> {
  for (const [productId, urls] of Object.entries(PRODUCT_DESTINATIONS)) {
    const res = await request(`/v1/products/${productId}`, { method: "PUT", headers: auth, body: JSON.stringify({ destinations: urls.map((url, i) => entry(url, DELIVERY[productId]![i]!)) }) });
    if (res.status !== 200) throw new Error(`${productId}: two destinations not accepted (${res.status}): ${await res.text()}`);
  }
}
