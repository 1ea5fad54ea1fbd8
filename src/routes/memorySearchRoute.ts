/**
 * @module
 * `GET /v1/products/:product_id/search?q=&user_id=&limit=`: the product's memory, ranked summaries
 * of its sessions (`product/memory/`). The REST twin of the MCP tool `search_memory`. With memory
 * off it answers 200 with `memory: "off"` and no results, so an agent is told why, not an error.
 */
import { createRoute } from "@hono/zod-openapi";
import { readMemory } from "../agents/memorySearch";
import type { App } from "../http/app";
import { requireAccess } from "../http/auth";
import { MemoryResultsSchema, MemorySearchQuerySchema } from "../http/memorySchemas";
import { ProductParam } from "../http/productSchemas";
import { ErrorSchema, jsonContent, keyAuthResponses } from "../http/schemas";
import { rejectInvalid } from "../http/validate";

const route = createRoute({
  method: "get",
  path: "/v1/products/{product_id}/search",
  tags: ["agents"],
  summary: "Search the summaries of a product's sessions",
  description:
    "Natural-language search over every stored summary of the product's sessions (BM25 over stemmed words, stop words dropped, " +
    "no single word required; fused with embedding similarity by reciprocal rank when EMBED_MODEL is set), best first.",
  security: [{ bearer: [] }],
  middleware: requireAccess("GET /v1/products/{product_id}/search"),
  request: { params: ProductParam, query: MemorySearchQuerySchema },
  responses: {
    200: jsonContent(MemoryResultsSchema, "Ranked summaries (`memory: \"off\"` and none when the product keeps no memory)"),
    ...keyAuthResponses,
    422: jsonContent(ErrorSchema, "Missing or invalid q, user_id or limit (`invalid_query`)"),
  },
});

export function registerMemorySearch(app: App): void {
  app.openapi(
    route,
    async (c) => {
      const { q, user_id, limit } = c.req.valid("query");
      return c.json(await readMemory(c.env, c.req.valid("param").product_id, q, user_id, limit), 200);
    },
    rejectInvalid({ param: "invalid_path", query: "invalid_query" }),
  );
}
