/**
 * @module
 * The PostHog webhook bodies as the OpenAPI document describes them. A description, not a check:
 * `parsePosthogBody` reads them leniently and counts what it drops instead of refusing a whole
 * batch for one odd event.
 */
import { z } from "@hono/zod-openapi";

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
  .openapi({
    description: 'A native batch {"batch":[…]}, the CDP webhook default {"event":{…},"person":{…}}, or one flat Hog-function event.',
  });
