/**
 * @module
 * OpenAPI descriptions (zod) of the source routes' bodies and answers. Documentation only: the
 * handlers keep the raw body for signatures and parse it with the lenient source parsers, which
 * count what they drop instead of rejecting a whole batch for one odd event.
 */
import { z } from "@hono/zod-openapi";
import { AcceptedBatchSchema, ErrorSchema, ProductId } from "../http/schemas";

/** `:product_id` path parameter. */
export const ProductIdParam = z.object({
  product_id: ProductId.openapi({ param: { name: "product_id", in: "path" } }),
});

const Properties = z.record(z.string(), z.unknown()).openapi({
  description: "Event properties: $session_id, $current_url, $event_type, $el_text, $elements_chain, title, email, …",
});

/** One PostHog event as sent by native webhooks and batch exports. */
export const PosthogEventSchema = z
  .looseObject({
    uuid: z.string().optional().openapi({ description: "Used to drop redeliveries" }),
    event: z.string().openapi({ example: "$autocapture" }),
    distinct_id: z.string().optional(),
    timestamp: z.union([z.string(), z.number()]).openapi({ example: "2025-03-04T10:15:04.250Z" }),
    properties: Properties.optional(),
    elements_chain: z.string().optional(),
  })
  .openapi("PosthogEvent");

/** The Hog-function flat payload (one event per request), as the Autoplay quickstart defines it. */
export const PosthogFlatEventSchema = z
  .looseObject({
    event: z.string(),
    timestamp: z.string(),
    uuid: z.string().optional().openapi({ description: 'Recommended: "{event.uuid}", used to drop redeliveries' }),
    session_id: z.string().nullish(),
    distinct_id: z.string().nullish(),
    email: z.string().nullish(),
    current_url: z.string().nullish(),
    event_type: z.string().nullish(),
    elements_chain: z.string().nullish(),
    element_id: z.string().nullish(),
    input_field_name: z.string().nullish(),
    link_destination: z.string().nullish(),
    button_or_link_text: z.string().nullish(),
    referrer: z.string().nullish(),
  })
  .openapi("PosthogFlatEvent");

/** Any accepted PostHog body. */
export const PosthogWebhookBodySchema = z
  .union([
    z.looseObject({ batch: z.array(PosthogEventSchema) }),
    z.looseObject({ event: PosthogEventSchema, person: z.looseObject({ properties: Properties.optional() }).optional() }),
    PosthogFlatEventSchema,
  ])
  .openapi("PosthogWebhookBody", {
    description: 'A native batch {"batch":[…]}, the CDP webhook default {"event":{…},"person":{…}}, or one flat Hog-function event.',
  });

/** A Segment `track`/`page`/`screen` call, or `{"batch":[…]}` of them. */
export const SegmentBodySchema = z
  .union([
    z.looseObject({ batch: z.array(z.looseObject({ type: z.string() })), context: z.record(z.string(), z.unknown()).optional() }),
    z.looseObject({
      type: z.enum(["track", "page", "screen", "identify", "group", "alias"]),
      messageId: z.string().optional(),
      userId: z.string().nullish(),
      anonymousId: z.string().nullish(),
      event: z.string().optional(),
      name: z.string().optional(),
      timestamp: z.string().optional(),
      properties: z.record(z.string(), z.unknown()).optional(),
      context: z.record(z.string(), z.unknown()).optional(),
    }),
  ])
  .openapi("SegmentBody");

const Count = z.number().int().optional();

/** `202` answer of every source route. */
export const SourceAcceptedSchema = z
  .object({
    accepted: z.array(AcceptedBatchSchema),
    dropped: z
      .object({ low_signal: Count, no_session: Count, duplicate: Count, invalid: Count })
      .openapi({ description: "Events that produced no action, by reason; only non-zero reasons appear" }),
  })
  .openapi("SourceAccepted", {
    example: {
      accepted: [{ product_id: "acme", session_id: "0195b4a2-7c1e-7d3a-9f00-3c2b1a0e9d11", actions: 9, duplicate: false }],
      dropped: { low_signal: 3, duplicate: 1 },
    },
  });

/** OpenAPI `responses` entry for an error status. */
export function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: ErrorSchema } } };
}
