/**
 * @module
 * The timeline's JSON (`GET …/sessions/:s/timeline`, built by `session/timeline.ts`), declared
 * for validation-free output and `GET /openapi.json`: events oldest first, each with a `type`.
 */
import { z } from "@hono/zod-openapi";

const at = z.string().nullable();
const windows = z.object({ from: z.number().int(), to: z.number().int() });

const BatchEvent = z.object({
  type: z.literal("batch"),
  at,
  seq: z.number().int(),
  window: z.number().int(),
  actions: z.array(z.object({ index: z.number().int(), type: z.string(), title: z.string(), description: z.string(), url: z.string(), at })),
  notes: z.array(z.object({ lane: z.number().int().nullable(), part_id: z.string().nullable() })).describe("The raw notes holding this batch, by lane"),
});
const NoteEvent = z.object({
  type: z.literal("note"),
  at,
  kind: z.enum(["raw", "summary"]),
  lane: z.number().int().nullable(),
  destination: z.string(),
  window: z.number().int(),
  part_id: z.string().nullable().describe("The destination's id of the posted note; null until posted"),
  posted: z.boolean(),
  batches: z.object({ from: z.number().int(), to: z.number().int().nullable() }).nullable(),
});
const SummaryEvent = z.object({
  type: z.literal("summary"),
  at,
  window: z.number().int(),
  covers: windows,
  actions: z.number().int(),
  text: z.string(),
  extractive: z.boolean(),
  posted_at: at,
});
const RedactionEvent = z.object({
  type: z.literal("redaction"),
  at,
  lane: z.number().int(),
  destination: z.string(),
  windows,
  replaced_by: z.number().int().describe("The window whose summary replaced the raw notes"),
});

export const TimelineSchema = z
  .object({
    product_id: z.string(),
    session_id: z.string(),
    events: z.array(z.discriminatedUnion("type", [BatchEvent, NoteEvent, SummaryEvent, RedactionEvent])),
    lanes: z.array(z.object({ id: z.number().int(), destination: z.string(), covered_through: z.number().int(), redactions: z.number().int(), step_failures: z.number().int() })),
    steps: z.array(
      z.object({ key: z.string(), kind: z.string(), attempts: z.number().int(), last_error: z.string().nullable(), parked: z.boolean(), next_attempt_at: at }),
    ),
    llm_breaker: z.object({ state: z.string(), failures: z.number().int(), open_until: at }).nullable(),
  })
  .openapi("SessionTimeline");
