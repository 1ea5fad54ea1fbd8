/**
 * @module
 * One Durable Object per product (named by `product_id`): its settings, its session index and its
 * memory (`product/memory/`: every summary of its sessions, searchable). The
 * instance named `*` (never a product id) is the key registry, since a key may span products and
 * `GET /v1/keys` lists them all. Thin: the SQL is `product/productStore.ts`, the rules are pure
 * modules beside it. Nothing here is on the ingest path: the Worker and the session actors cache
 * what they read (`product/client.ts`).
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfig, need } from "./config";
import { productConfig, type ProductSettings } from "./config/product";
import { generateKey } from "./product/apiKeys";
import { httpEmbedder, type Embed } from "./product/memory/embeddings";
import { remember, search, type Memory } from "./product/memory/memory";
import { MemoryStore } from "./product/memory/memoryStore";
import type { MemoryAnswer, MemoryEntry, MemoryQuery } from "./product/memory/types";
import { DEFAULT_AI_EMBED_MODEL, vectorizeIndex, workersAiEmbedder, type MemoryBindings, type VectorIndex } from "./product/memory/vectorize";
import { log } from "./log";
import { done, type Result } from "./result";
import { ProductStore, type StoredKey } from "./product/productStore";
import { PRODUCT_MIGRATIONS, PRODUCT_SQL } from "./product/schema";
import type { ProductSet, Scope } from "./product/scopes";
import type { IndexEntry, ListQuery } from "./product/sessionIndex";
import { meter } from "./meter";
import { applyMigrations } from "./storage/migrations";

/** A key as `GET /v1/keys` may show it: no secret, no hash. */
export type KeyInfo = Omit<StoredKey, "hash">;

const keyInfo = ({ hash: _hash, ...info }: StoredKey): KeyInfo => info;

export class ProductActor extends DurableObject<Env> {
  private readonly store: ProductStore;
  private readonly memory: MemoryStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    applyMigrations(ctx.storage, PRODUCT_MIGRATIONS, PRODUCT_SQL);
    this.store = new ProductStore(ctx.storage);
    this.memory = new MemoryStore(ctx.storage);
  }

  /** The product's settings over the environment's, as its sessions run with them. */
  private config() {
    return productConfig(loadConfig(this.env), this.env, this.store.settings()?.settings ?? null);
  }

  /**
   * The embedder (the environment's; a product has none of its own): the Workers AI binding when
   * bound and `EMBED_MODEL` is unset or a `@cf/` model, else the OpenAI-compatible endpoint when
   * `EMBED_MODEL` is set, else none (full text only).
   */
  private embedder(): Embed | null {
    const embed = need(loadConfig(this.env).core).embed;
    const { AI } = this.env as MemoryBindings;
    if (AI && (embed === null || embed.model.startsWith("@cf/"))) return workersAiEmbedder(AI, embed?.model ?? DEFAULT_AI_EMBED_MODEL);
    return embed ? httpEmbedder(embed, (input, init) => fetch(input, init)) : null;
  }

  /** The bound Vectorize index (`MEMORY_INDEX`) for this product, or null: vectors stay in SQLite. */
  private vectorIndex(): VectorIndex | null {
    const { MEMORY_INDEX } = this.env as MemoryBindings;
    return MEMORY_INDEX ? vectorizeIndex(MEMORY_INDEX, this.ctx.id.name ?? "") : null;
  }

  private memoryDeps(): Memory {
    return { store: this.memory, embed: this.embedder(), vectors: this.vectorIndex() };
  }

  // ---- settings ----------------------------------------------------------------------------

  async settings(): Promise<{ settings: ProductSettings; updatedAt: number } | null> {
    meter.rpc("product.settings");
    return this.store.settings();
  }

  /** Replaces the settings whole (validated by the route: secret names only). */
  async putSettings(settings: ProductSettings): Promise<{ settings: ProductSettings; updatedAt: number }> {
    meter.rpc("product.putSettings");
    this.store.putSettings(settings, Date.now());
    return this.store.settings()!;
  }

  // ---- keys (registry instance) ------------------------------------------------------------

  /** A new key; the full key is in this answer only. */
  async createKey(input: { name: string; products: ProductSet; scopes: Scope[] }): Promise<KeyInfo & { key: string }> {
    meter.rpc("product.createKey");
    const { id, key, hash } = await generateKey();
    this.store.insertKey({ id, name: input.name, products: input.products, scopes: input.scopes, hash, createdAt: Date.now() });
    return { ...keyInfo(this.store.key(id)!), key };
  }

  /** What verification needs (the hash included); null for an unknown id. */
  async key(id: string): Promise<StoredKey | null> {
    meter.rpc("product.key");
    return this.store.key(id);
  }

  async listKeys(): Promise<KeyInfo[]> {
    meter.rpc("product.listKeys");
    return this.store.keys().map(keyInfo);
  }

  /** False for an unknown id; revoking twice keeps the first time. */
  async revokeKey(id: string): Promise<KeyInfo | null> {
    meter.rpc("product.revokeKey");
    if (!this.store.key(id)) return null;
    this.store.revokeKey(id, Date.now());
    return keyInfo(this.store.key(id)!);
  }

  async touchKey(id: string, at: number): Promise<void> {
    meter.rpc("product.touchKey");
    this.store.touchKey(id, at);
  }

  // ---- the session index -------------------------------------------------------------------

  /** A session's entry, from its own `index` step. Expired entries go on every write. */
  async indexSession(entry: IndexEntry): Promise<void> {
    meter.rpc("product.indexSession");
    const now = Date.now();
    const vectors = this.vectorIndex();
    if (vectors) {
      // An expired session that could not say so: its vectors go first. If the index cannot be
      // reached they stay there, unreachable (every hit is read back from SQLite), and are logged.
      await vectors.remove(this.memory.expiredIds(now)).catch((err: unknown) => log("memory:remove_failed", { error: err instanceof Error ? err.name : "error" }));
    }
    this.store.transactionSync(() => {
      this.memory.removeExpired(now);
      this.store.dropExpired(now);
      this.store.upsertSession(entry, now);
    });
  }

  async unindexSession(sessionId: string, epoch?: string): Promise<void> {
    meter.rpc("product.unindexSession");
    // From the bound vector index first: if it cannot be reached this throws and nothing is removed (the erase retries).
    await this.vectorIndex()?.remove(this.memory.idsOf(sessionId, epoch));
    this.store.transactionSync(() => {
      this.store.removeSession(sessionId, epoch);
      this.memory.removeSession(sessionId, epoch);
    });
  }

  /** A page newest activity first; `next` is the position after it when more follow. */
  async listSessions(query: ListQuery): Promise<{ entries: IndexEntry[]; idleMs: number; now: number; more: boolean }> {
    meter.rpc("product.listSessions");
    const now = Date.now();
    const { idleMs } = this.config();
    const rows = this.store.listSessions(query, now, idleMs);
    return { entries: rows.slice(0, query.limit), idleMs, now, more: rows.length > query.limit };
  }

  // ---- memory ------------------------------------------------------------------------------

  /**
   * A summary, from its session's memory step: embedded when an embedder is set, then upserted
   * under its id (once, however often it is sent). With memory off for the product it keeps nothing.
   */
  async remember(entry: MemoryEntry): Promise<Result> {
    meter.rpc("product.remember");
    if (!this.config().memory) return done();
    return remember(this.memoryDeps(), entry);
  }

  async searchMemory(query: MemoryQuery): Promise<MemoryAnswer> {
    meter.rpc("product.searchMemory");
    if (!this.config().memory) return { memory: "off", hits: [] };
    return search(this.memoryDeps(), query);
  }
}
