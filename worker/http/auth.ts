import type { Context, MiddlewareHandler } from "hono";
import type { Role } from "../../shared/tenant.js";
import type { AppEnv } from "../env.js";
import { secretsEqual } from "../security/crypto.js";
import { parseKeyToken, touchKey, verifyKey, type KeyRecord } from "../store/keys.js";
import { tenantExists } from "../store/tenants.js";
import { ApiError, notFound } from "./errors.js";

export type Principal = { kind: "operator" } | ({ kind: "key" } & KeyRecord);
export type Allowed = "operator" | Role;

const unauthorized = () => new ApiError(401, "unauthorized", "a valid key is required");
export const operatorOnly = () => new ApiError(403, "forbidden", "the operator token manages tenants and keys only");

/** Whether a token is the operator's. A token shaped like a tenant key never is: no comparison on the hot path. */
export async function isOperatorToken(c: Context<AppEnv>, token: string): Promise<boolean> {
  return !parseKeyToken(token) && !!c.env.ADMIN_TOKEN && (await secretsEqual(token, c.env.ADMIN_TOKEN));
}

export function bearer(c: Context<AppEnv>, allowQueryKey: boolean): string | null {
  const h = c.req.header("authorization");
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m ? m[1]! : null;
  }
  return allowQueryKey ? (c.req.query("key") ?? null) : null;
}

/**
 * Who may call a tenant's path. A key of another tenant gets 404, never 403, so a key
 * cannot even learn that the tenant exists (SPEC 3).
 */
export function requireAuth(allowed: Allowed[], opts: { queryKey?: boolean; tenantMayBeNew?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearer(c, opts.queryKey ?? false);
    if (!token) throw unauthorized();
    const tenant = c.req.param("tenant");
    if (await isOperatorToken(c, token)) {
      if (!allowed.includes("operator")) throw operatorOnly();
      if (tenant && !opts.tenantMayBeNew && !(await tenantExists(c.env.DB, tenant))) throw notFound("tenant");
      c.set("principal", { kind: "operator" });
      return next();
    }
    admitKey(c, await verifyKey(c.env.DB, token), tenant, allowed);
    return next();
  };
}

/** The checks every tenant key passes, wherever its row was loaded. */
export function admitKey(c: Context<AppEnv>, key: KeyRecord | null, tenant: string | undefined, allowed: Allowed[]): KeyRecord {
  if (!key) throw unauthorized();
  if (tenant !== undefined && key.tenant !== tenant) throw notFound("tenant");
  if (!allowed.includes(key.role)) throw new ApiError(403, "forbidden", `a ${key.role} key cannot do this`);
  c.set("principal", { kind: "key", ...key });
  c.executionCtx.waitUntil(touchKey(c.env.DB, key).catch(() => undefined));
  return key;
}

export { unauthorized };
