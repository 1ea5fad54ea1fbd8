/**
 * @module
 * The schemas of the product routes: scoped keys, per-product settings and the session index.
 * As in `schemas.ts`, the same zod objects validate requests and generate `GET /openapi.json`.
 * A secret is only ever named (`{"env": "NAME"}`); a value given inline is refused.
 */
import { z } from "@hono/zod-openapi";
import type { DestinationEntry, ProductSettings } from "../config/product";
import { LISTING, SESSION_STATUSES } from "../product/sessionIndex";
import { SCOPES } from "../product/scopes";
import { firstValue, ProductId, SessionId } from "./schemas";

const SecretRefSchema = z
  .strictObject({ env: z.string().min(1).max(128) }, { error: 'a secret is named, never given: {"env": "NAME"} (a Worker secret)' })
  .openapi("SecretRef", { example: { env: "WEBHOOK_SECRET_ACME" } });

const DeliverySchema = z
  .enum(["append", "replace"])
  .optional()
  .openapi({ description: "DELIVERY: append (post, then redact what a summary covers; the default) or replace (one context message per session, edited)" });

const DestinationSchema = z
  .discriminatedUnion(
    "type",
    [
      z.strictObject({ type: z.literal("store") }),
      z.strictObject({ type: z.literal("webhook"), url: z.string().max(2_048), secret: SecretRefSchema, delivery: DeliverySchema }),
      z.strictObject({
        type: z.literal("intercom"),
        access_token: SecretRefSchema,
        admin_id: z.string().max(20),
        api_base: z.string().max(2_048).optional(),
        version: z.string().max(20).optional(),
      }),
      z.strictObject({ type: z.literal("autoplay"), forward_url: z.string().max(2_048), secret: SecretRefSchema }),
      z.strictObject({ type: z.literal("stream") }),
      z.strictObject({
        type: z.literal("slack"),
        bot_token: SecretRefSchema,
        channel: z.string().max(40).optional().openapi({ description: "Channel id for sessions without a link (SLACK_CHANNEL)" }),
        api_base: z.string().max(2_048).optional(),
        delivery: DeliverySchema,
      }),
    ],
    { error: 'type must be one of "store", "webhook", "intercom", "slack", "autoplay", "stream"' },
  )
  .openapi("Destination", {
    example: { type: "webhook", url: "https://hooks.example.com/relay", secret: { env: "WEBHOOK_SECRET_ACME" } },
  }) satisfies z.ZodType<DestinationEntry>;

const ms = (what: string) => z.number().int().nonnegative().openapi({ description: `${what}, in milliseconds` });

/** `PUT /v1/products/:p`: any of the settings; what is absent takes the environment's value. */
/** Lanes per session: each is its own deliveries and rows, so a product gets a few, not a list. */
export const MAX_DESTINATIONS = 4;

export const ProductSettingsSchema = z
  .strictObject({
    threshold: z.number().int().openapi({ description: "K: actions per window (SUMMARY_THRESHOLD)" }),
    mode: z.enum(["rolling", "independent"]),
    prompt: z.string().max(20_000).openapi({ description: "Template with {actions} (SUMMARY_PROMPT)" }),
    format: z.enum(["numbered", "by-page"]),
    debounce: ms("Raw-note coalescing window (DEBOUNCE_MS)"),
    idle: ms("Idle time before an open window is summarised (SESSION_IDLE_MS)"),
    retention: ms("Inactivity before a session is erased (SESSION_RETENTION_MS)"),
    memory: z.enum(["on", "off"]).openapi({ description: "Summaries indexed for GET /v1/products/{product_id}/search (MEMORY)" }),
    destinations: z
      .array(DestinationSchema)
      .min(1, "destinations holds at least one entry")
      .max(MAX_DESTINATIONS, `destinations holds at most ${MAX_DESTINATIONS} entries`)
      .refine((list) => new Set(list.map((d) => JSON.stringify(d))).size === list.length, "destinations must not repeat an entry")
      .openapi({ description: "Each outbound entry is its own lane (fan-out); {\"type\":\"store\"} is the session's own copy, always kept" }),
    connector_secret: SecretRefSchema.openapi({ description: "This product's X-Connector-Signature key, in place of CONNECTOR_SECRET" }),
    posthog_webhook_secret: SecretRefSchema.openapi({ description: "This product's X-PostHog-Secret, in place of POSTHOG_WEBHOOK_SECRET(S)" }),
  })
  .partial()
  .openapi("ProductSettings", {
    example: { threshold: 20, destinations: [{ type: "webhook", url: "https://hooks.example.com/relay", secret: { env: "WEBHOOK_SECRET_ACME" } }] },
  }) satisfies z.ZodType<ProductSettings>;


export const ProductParam = z.object({ product_id: ProductId.openapi({ param: { name: "product_id", in: "path" } }) });

export const ProductViewSchema = z
  .object({
    product_id: z.string(),
    settings: ProductSettingsSchema.openapi({ description: "As stored by the last PUT ({} when none)" }),
    updated_at: z.string().nullable(),
    effective: z
      .object({
        threshold: z.number().int(),
        mode: z.enum(["rolling", "independent"]),
        prompt: z.string(),
        format: z.enum(["numbered", "by-page"]),
        debounce: z.number().int(),
        idle: z.number().int(),
        retention: z.number().int(),
        memory: z.enum(["on", "off"]),
        destinations: z.array(DestinationSchema),
      })
      .openapi({ description: "What this product's sessions run with: its settings over the environment's (secrets by name only)" }),
  })
  .openapi("Product");

// ---- keys ------------------------------------------------------------------------------------

const KeyProducts = z
  .union([z.literal("*"), z.array(ProductId).min(1).max(100)], { error: 'products must be "*" or a list of product ids' })
  .openapi({ example: ["acme"] });

export const CreateKeySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    products: KeyProducts,
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .transform((s) => [...new Set(s)]),
  })
  .openapi("CreateKey", { example: { name: "segment-acme", products: ["acme"], scopes: ["ingest"] } });

export const KeyInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    products: z.union([z.literal("*"), z.array(z.string())]),
    scopes: z.array(z.enum(SCOPES)),
    created_at: z.string(),
    last_used_at: z.string().nullable().openapi({ description: "Written at most once a minute per key and isolate" }),
    revoked: z.boolean(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedKeySchema = KeyInfoSchema.extend({
  key: z.string().openapi({ description: "The key, shown this once: only its hash is stored", example: "crk_3kQm…_…" }),
}).openapi("CreatedApiKey");

export const KeyParam = z.object({ key_id: z.string().regex(/^[A-Za-z0-9_-]{12}$/, "key_id is not a key id").openapi({ param: { name: "key_id", in: "path" } }) });

// ---- session index ---------------------------------------------------------------------------

export const ListQuerySchema = z.object({
  status: firstValue(z.enum(SESSION_STATUSES)).optional(),
  user_id: firstValue(SessionId).optional().openapi({ description: "Only this user's sessions" }),
  limit: firstValue(z.coerce.number().int().min(1).max(LISTING.maxLimit))
    .optional()
    .openapi({ description: `Page size (default ${LISTING.defaultLimit}, at most ${LISTING.maxLimit})` }),
  cursor: firstValue(z.string().max(2_048)).optional().openapi({ description: "next_cursor of the previous page" }),
});

export const UserSessionsParams = ProductParam.extend({ user_id: SessionId.openapi({ param: { name: "user_id", in: "path" } }) });

const IndexedStepSchema = z.object({ key: z.string(), kind: z.string(), attempts: z.number().int(), last_error: z.string().nullable(), parked: z.boolean() });

/** A session as the product's index lists it (the listing routes and the MCP tool `list_user_sessions`). */
export const IndexedSessionSchema = z.object({
  session_id: z.string(),
  user_id: z.string().nullable(),
  link: z.string().nullable(),
  status: z.enum(SESSION_STATUSES),
  created_at: z.string(),
  last_activity_at: z.string().openapi({ description: "Up to a minute behind a session that is receiving events" }),
  counts: z.object({ actions: z.number().int(), batches: z.number().int(), raw_notes: z.number().int(), summaries: z.number().int(), redactions: z.number().int() }),
  step: IndexedStepSchema.nullable().openapi({ description: "The step in trouble, parked first" }),
});

export const SessionListSchema = z
  .object({
    sessions: z.array(IndexedSessionSchema),
    next_cursor: z.string().nullable(),
  })
  .openapi("SessionList");
