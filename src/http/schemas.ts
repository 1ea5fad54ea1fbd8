/**
 * @module
 * The request and response schemas. The same zod objects validate requests and generate
 * `GET /openapi.json`, so the document cannot drift from what the service accepts.
 */
import { z } from "@hono/zod-openapi";
import { actionsPayloadFromDict } from "../session/model";
import type { App } from "./app";
import { idProblem, isConversationId, isProductId, MAX_ID_CHARS } from "./ids";

export const LIMITS = {
  batchesPerRequest: 100,
  actionsPerBatch: 500,
  idChars: MAX_ID_CHARS,
  titleChars: 500,
  descriptionChars: 4_000,
  urlChars: 2_048,
  idempotencyKeyChars: 200,
} as const;

const optionalText = (max: number) => z.string().max(max).nullish();
const optionalNumber = z.number().finite().nullish();

/**
 * An id under the one rule of `./ids` (well-formed, no controls, not `.`/`..`), its problem named
 * in the message; `optional`: "" means none, as the SDK's `from_dict` reads a falsy id.
 */
const idString = (name: string, { optional = false } = {}) =>
  z.string().check((ctx) => {
    const problem = optional && ctx.value === "" ? null : idProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", message: `${name} ${problem}`, input: ctx.value });
  });

/** An optional id: absent, null or "" mean none; anything else must be an id. */
const optionalId = (name: string) => idString(name, { optional: true }).nullish();

export const ProductId = z
  .string()
  .refine(isProductId, "product_id must be 1-128 letters, digits, '.', '_' or '-', and not '.' or '..'")
  .openapi({ example: "prod_abc" });

export const SessionId = idString("session_id").openapi({ example: "ps_abc123" });

const CONVERSATION_ID_RULE = "conversation_id must be 1-128 letters, digits, '_', '.', ':' or '-', and not '.' or '..'";

/**
 * A conversation id, the same on every route: a string, or a number as Intercom's Messenger
 * sometimes hands it over, trimmed.
 */
export const ConversationId = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => String(v).trim())
  .pipe(z.string().refine(isConversationId, CONVERSATION_ID_RULE))
  .openapi({ type: "string", example: "215471234567890" });

/** An optional conversation id in a batch or an action: absent, null or "" mean none. */
const optionalConversationId = z
  .string()
  .refine((id) => id === "" || isConversationId(id), CONVERSATION_ID_RULE)
  .nullish();

export const SlimActionSchema = z
  .object({
    title: optionalText(LIMITS.titleChars),
    description: optionalText(LIMITS.descriptionChars),
    canonical_url: optionalText(LIMITS.urlChars),
    index: optionalNumber,
    type: optionalText(64),
    timestamp_start: optionalNumber,
    timestamp_end: optionalNumber,
    raw_url: optionalText(LIMITS.urlChars),
    session_id: optionalId("session_id"),
    user_id: optionalId("user_id"),
    email: optionalId("email"),
    conversation_id: optionalConversationId,
  })
  .openapi("SlimAction", {
    example: {
      title: "Click Export CSV button",
      description: "User clicked Export CSV button on the dashboard page",
      canonical_url: "https://app.example.com/dashboard",
      type: "click",
      index: 0,
      timestamp_start: 1700000000,
    },
  });

/** One batch as sent, parsed into the model with the SDK's `from_dict` semantics (falsy fields become defaults; `count` is ignored). */
export const ActionsPayloadSchema = z
  .object({
    type: z.literal("actions").optional().openapi({ description: 'Always "actions" (a "summary" payload is acknowledged and not applied).' }),
    product_id: ProductId,
    session_id: SessionId,
    user_id: optionalId("user_id"),
    email: optionalId("email"),
    conversation_id: optionalConversationId,
    count: optionalNumber,
    forwarded_at: optionalNumber,
    // Missing or null is an empty batch, as the SDK's `from_dict` reads it.
    actions: z.array(SlimActionSchema).max(LIMITS.actionsPerBatch).nullish(),
  })
  .transform(actionsPayloadFromDict)
  .openapi("ActionsPayload");

/**
 * A connector-side summary: acknowledged, never applied (Context Relay makes its own), so it
 * parses to null. Left unnamed in the document: a named one would make the batch union an OpenAPI
 * discriminator on `type`, which an ActionsPayload may omit.
 */
const SummaryPayloadSchema = z
  .looseObject({ type: z.literal("summary") })
  .transform(() => null)
  .openapi({ description: "A connector-side summary: acknowledged and not applied; Context Relay makes its own summaries." });

const BatchSchema = z.discriminatedUnion("type", [ActionsPayloadSchema, SummaryPayloadSchema], {
  error: ({ input }) =>
    input !== null && typeof input === "object" && !Array.isArray(input)
      ? `unknown payload type ${JSON.stringify((input as { type?: unknown }).type)}; expected "actions"`
      : "must be an ActionsPayload object",
});

/** The body of `POST /v1/actions`: one batch or an array of them; each parses to its payload, or null for a summary. */
export const ActionsRequestSchema = z
  .union(
    [
      BatchSchema,
      z
        .array(BatchSchema)
        .min(1, "the array holds no batch")
        .max(LIMITS.batchesPerRequest, {
          error: (issue) => `at most ${LIMITS.batchesPerRequest} batches per request, got ${(issue.input as unknown[]).length}`,
        }),
    ],
    { error: "body: must be an ActionsPayload object" },
  )
  .openapi("ActionsRequest");

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi("Error", { example: { error: { code: "invalid_batch", message: "session_id: required" } } });

/** An OpenAPI response (or request body) of JSON `schema`. */
export function jsonContent(schema: z.ZodType, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/**
 * A required JSON body that the OpenAPI document describes with `schema`, registered as the
 * component `name`, but that the route does not check against it: the source parsers read bodies
 * leniently and count what they drop instead of refusing a whole batch for one odd event.
 */
export function describedBody(app: App, name: string, schema: z.ZodType) {
  app.openAPIRegistry.register(name, schema);
  return { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${name}` } } } };
}

/** A query value as `c.req.query(name)` reads it: the first one when the name repeats. */
export function firstValue<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (Array.isArray(value) ? value[0] : value), schema);
}

export const AcceptedBatchSchema = z.object({
  product_id: z.string(),
  session_id: z.string(),
  actions: z.number().int().openapi({ description: "Actions this batch stored: 0 for a duplicate; a redelivery stores only its unseen events" }),
  duplicate: z.boolean().openapi({ description: "Nothing of the batch was new: it was applied within IDEMPOTENCY_TTL_MS" }),
});

export const AcceptedSchema = z
  .object({
    accepted: z.array(AcceptedBatchSchema),
    ignored: z.array(z.object({ index: z.number().int(), reason: z.string() })).optional(),
  })
  .openapi("Accepted");

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

/** `{product_id}` path parameter of the source routes. */
export const ProductIdParam = z.object({
  product_id: ProductId.openapi({ param: { name: "product_id", in: "path" } }),
});

export const SessionParams = z.object({
  product_id: ProductId.openapi({ param: { name: "product_id", in: "path" } }),
  session_id: SessionId.openapi({ param: { name: "session_id", in: "path" } }),
});

export const LinkBodySchema = z
  .object({ conversation_id: ConversationId })
  .openapi("LinkRequest", { example: { conversation_id: "215471234567890" } });

export const LinkResultSchema = z
  .object({ conversation_id: z.string(), previous: z.string().nullable(), changed: z.boolean() })
  .openapi("LinkResult");

export const ContextSchema = z.object({ context: z.string() }).openapi("Context");

/** The LLM circuit breaker of one isolate (`src/llm/breaker.ts`). */
export const BreakerViewSchema = z
  .object({
    state: z.enum(["closed", "open", "half-open"]),
    failures: z.number().int().openapi({ description: "Consecutive LLM failures counted" }),
    open_until: z.string().nullable().openapi({ description: "Open: when one probe may go. Half-open: when the probe's lease ends." }),
  })
  .openapi("LlmBreaker");

const NoteViewSchema = z.object({
  part_id: z.string().nullable(),
  kind: z.enum(["raw", "summary"]),
  window: z.number().int(),
  posted_at: z.string().nullable(),
});

const StepViewSchema = z.object({ key: z.string(), kind: z.string(), attempts: z.number().int(), last_error: z.string().nullable(), parked: z.boolean() });

export const SessionStateSchema = z
  .object({
    product_id: z.string(),
    session_id: z.string(),
    threshold: z.number().int(),
    mode: z.enum(["rolling", "independent"]),
    pending: z.object({ actions: z.number().int(), since: z.string().nullable() }),
    backlog: z.object({ actions: z.number().int(), bytes: z.number().int(), max_actions: z.number().int(), max_bytes: z.number().int() }),
    open_window: z.object({ id: z.number().int(), actions: z.number().int() }),
    lanes: z
      .array(
        z.object({
          id: z.number().int(),
          destination: z.string().openapi({ description: "The destination's type (webhook, intercom), never its settings" }),
          added_at: z.string(),
          covered_through: z.number().int().openapi({ description: "The summaries posted in this lane cover the windows up to this one" }),
          unposted_summaries: z.number().int(),
          pending: z.object({ actions: z.number().int(), since: z.string().nullable() }),
          notes: z.array(NoteViewSchema),
          step: StepViewSchema.nullable().openapi({ description: "The lane's step in trouble" }),
          counters: z.object({
            raw_notes_posted: z.number().int(),
            summary_notes_posted: z.number().int(),
            redactions: z.number().int(),
            step_failures: z.number().int(),
            summaries_skipped: z.number().int().openapi({ description: "Independent mode: summaries this lane skipped after falling more than 32 windows behind" }),
          }),
        }),
      )
      .openapi({ description: "One per outbound destination (fan-out); none for the store" }),
    notes: z.array(NoteViewSchema.extend({ lane: z.number().int().nullable(), redacted_at: z.string().nullable() })),
    latest_summary: z
      .object({
        window: z.number().int(),
        text: z.string().nullable(),
        extractive: z.boolean(),
        fallback: z.enum(["llm_rejected_request"]).nullable().openapi({
          description: "Set when the LLM refused the window's request (400, 413, 422) and an extractive summary stood in",
        }),
      })
      .nullable(),
    link: z.object({ conversation_id: z.string(), linked_at: z.string().nullable() }).nullable(),
    next_alarm_at: z.string().nullable(),
    llm_breaker: BreakerViewSchema.nullable().openapi({
      description: "The breaker of the isolate running this session's actor; null with the extractive summariser",
    }),
    step: StepViewSchema.nullable(),
    counters: z.record(z.string(), z.number()).openapi({ description: "The note counters are the sums over the current lanes" }),
  })
  .passthrough()
  .openapi("SessionState");

/** The answers of every key-scoped route's auth (`requireAccess`). */
export const keyAuthResponses = {
  401: jsonContent(ErrorSchema, "Missing, unknown or revoked credential (`unauthorized`)"),
  403: jsonContent(ErrorSchema, "The key lacks the route's scope or does not cover the product (`out_of_scope`); nothing read or changed"),
};
