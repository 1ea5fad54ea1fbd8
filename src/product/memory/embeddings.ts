/**
 * @module
 * The OpenAI embeddings wire format (`POST {base}/embeddings`, the body the `openai` SDK sends for
 * `embeddings.create({ model, input, encoding_format: "float" })`), sent through the one outbound
 * helper (`callHttp`: one deadline, no redirects) rather than the SDK, whose own retries would be a
 * second retry loop beside the step engine's. Statuses follow the shared rules (`classifyStatus`).
 */
import type { EmbedConfig } from "../../config/memory";
import { callHttp, type Exchange, type OutboundRequest } from "../../outbound/http";
import { classifyStatus, parseRetryAfter } from "../../outbound/status";
import { done, failed, retry, type Result } from "../../result";

export const DEFAULT_EMBED_BASE_URL = "https://api.openai.com/v1";

/** The request for some texts; the key is sent only when one is set (a local server needs none). */
export function embeddingsRequest(config: EmbedConfig, input: readonly string[]): OutboundRequest {
  const base = (config.baseURL ?? DEFAULT_EMBED_BASE_URL).replace(/\/+$/, "");
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  return { url: `${base}/embeddings`, method: "POST", headers, body: JSON.stringify({ model: config.model, input, encoding_format: "float" }) };
}

/** An answer as one vector per input, in input order; no body or secret in any message. */
export function readEmbeddings(answer: Exchange, count: number, now: number): Result<{ vectors: Float32Array[] }> {
  if (answer.kind === "lost") return retry(answer.why === "timed out" ? "embedder timed out" : "embedder connection failed");
  const verdict = classifyStatus(answer.status);
  const message = `embedder answered ${answer.status}`;
  if (verdict === "retry" || verdict === "rate-limited") {
    const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"), now);
    return retry(message, retryAfterMs === undefined ? {} : { retryAfterMs });
  }
  if (verdict === "redirect") return failed(`${message} (redirects are not followed: check EMBED_BASE_URL)`);
  if (verdict !== "done") return failed(`${message} (check EMBED_MODEL, EMBED_BASE_URL and EMBED_API_KEY)`);
  const data = (answer.json as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data) || data.length !== count) return retry(`${message} without ${count} embedding(s)`);
  const vectors: Float32Array[] = [];
  for (const [i, item] of data.entries()) {
    const { embedding, index } = (item ?? {}) as { embedding?: unknown; index?: unknown };
    if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === "number")) return retry(`${message} with an embedding that is not numbers`);
    vectors[typeof index === "number" ? index : i] = Float32Array.from(embedding as number[]);
  }
  return done({ vectors });
}

/** Something that turns texts into vectors (the HTTP embedder; tests may pass their own). */
export type Embed = (input: readonly string[]) => Promise<Result<{ vectors: Float32Array[] }>>;

export const httpEmbedder =
  (config: EmbedConfig, fetchFn: typeof fetch = fetch): Embed =>
  async (input) =>
    readEmbeddings(await callHttp(fetchFn, embeddingsRequest(config, input), config.timeoutMs), input.length, Date.now());
