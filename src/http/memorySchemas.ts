/**
 * @module
 * Memory search's schemas: the REST query, the MCP tool's arguments and the answer both return.
 */
import { z } from "@hono/zod-openapi";
import { MEMORY_LIMITS } from "../product/memory/types";
import { firstValue, SessionId } from "./schemas";

const query = z
  .string()
  .trim()
  .min(1, "q must not be empty")
  .max(MEMORY_LIMITS.maxQueryChars, `q must be at most ${MEMORY_LIMITS.maxQueryChars} characters`);

export const MemorySearchQuerySchema = z.object({
  q: firstValue(query).openapi({ description: 'The question, in natural language ("did this user try to export invoices?")' }),
  user_id: firstValue(SessionId).optional().openapi({ description: "Only this user's summaries" }),
  limit: firstValue(z.coerce.number().int().min(1).max(MEMORY_LIMITS.maxLimit))
    .optional()
    .openapi({ description: `Most results (default ${MEMORY_LIMITS.defaultLimit}, at most ${MEMORY_LIMITS.maxLimit})` }),
});

export const memoryArguments = {
  query: query.describe('The question, in natural language, e.g. "did this user try to export invoices?"'),
  limit: z
    .number()
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(MEMORY_LIMITS.maxLimit, `limit must be at most ${MEMORY_LIMITS.maxLimit}`)
    .optional()
    .describe(`Most results (default ${MEMORY_LIMITS.defaultLimit}, at most ${MEMORY_LIMITS.maxLimit})`),
};

export const MemoryResultsSchema = z
  .object({
    product_id: z.string(),
    query: z.string(),
    memory: z.enum(["on", "off"]).openapi({ description: "off: the product keeps no memory (MEMORY=off), so results is empty" }),
    ranking: z.enum(["fts", "hybrid", "none"]).openapi({ description: "fts: BM25 over the text; hybrid: BM25 and cosine fused by reciprocal rank" }),
    results: z.array(
      z.object({
        summary: z.string(),
        session_id: z.string(),
        user_id: z.string().nullable(),
        window: z.number().int(),
        time: z.string().openapi({ description: "When the summary was made, ISO (UTC)" }),
        extractive: z.boolean().openapi({ description: "Made without the LLM (the extractive fallback)" }),
        score: z.number().openapi({ description: "Higher is better; comparable within one answer only" }),
      }),
    ),
  })
  .openapi("MemoryResults");

export type MemoryResults = z.infer<typeof MemoryResultsSchema>;
