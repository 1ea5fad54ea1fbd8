/**
 * @module
 * The app type every route file registers on. `principal` is who a key-scoped route's caller is,
 * set by `requireAccess` (http/auth.ts).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Principal } from "../product/scopes";

export type AppEnv = { Bindings: Env; Variables: { principal: Principal } };
export type App = OpenAPIHono<AppEnv>;
