// Names and addresses every bench module shares. Everything listens on loopback only.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, "..");
export const HOST = "127.0.0.1";
export const API_TOKEN = "bench-token";
export const PRODUCT = "bench";
export const AUTH = { authorization: `Bearer ${API_TOKEN}` };
