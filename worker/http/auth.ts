import type { Context, MiddlewareHandler } from "hono";
import type { Role } from "../../shared/tenant.js";
import type { AppEnv } from "../env.js";
import { secretsEqual } from "../security/crypto.js";
import { parseKeyToken, touchKey, verifyKey, type KeyRecord } from "../store/keys.js";
import { tenantExists } from "../store/tenants.js";
import { DomainError, notFound } from "../services/errors.js";
import { failedAuthLimited, tooManyFailedAuth } from "./limits.js";

export type Principal = { kind: "operator" } | ({ kind: "key" } & KeyRecord);
export type Allowed = "operator" | Role;

const unauthorized = () => new DomainError("unauthorized", "a valid key is required");
export const operatorOnly = () => new DomainError("forbidden", "the operator token manages tenants and keys only");

/**
 * Whether a token is the operator's: ADMIN_TOKEN, or ADMIN_TOKEN_PREVIOUS while a rotation is under
 * way (docs/operations.md). A token shaped like a tenant key never is: no comparison on the hot path.
 */
export async function isOperatorToken(c: Context<AppEnv>, token: string): Promise<boolean> {
  if (parseKeyToken(token)) return false;
  const accepted = [c.env.ADMIN_TOKEN, c.env.ADMIN_TOKEN_PREVIOUS].filter((t): t is string => !!t);
  // Both compared every time, so the time taken does not tell which of the two matched.
  const matches = await Promise.all(accepted.map((t) => secretsEqual(token, t)));
  return matches.includes(true);
}

/** The credential a request carries: the bearer header, or (identify only) `?key=`, which ends up in URLs and logs. */
export function credential(c: Context<AppEnv>, allowQueryKey: boolean): { token: string; inUrl: boolean } | null {
  const h = c.req.header("authorization");
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m ? { token: m[1]!, inUrl: false } : null;
  }
  const q = allowQueryKey ? c.req.query("key") : undefined;
  return q ? { token: q, inUrl: true } : null;
}

/** A presented credential did not verify: counted against this client and that key, then 401 (or 429 past the limit). */
export async function refuseCredential(c: Context<AppEnv>, token: string): Promise<never> {
  throw (await failedAuthLimited(c, token)) ? tooManyFailedAuth() : unauthorized();
}

/**
 * Who may call a tenant's path. A key of another tenant gets 404, never 403, so a key
 * cannot even learn that the tenant exists (SPEC 3).
 */
export function requireAuth(allowed: Allowed[], opts: { tenantMayBeNew?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = credential(c, false)?.token;
    if (!token) throw unauthorized();
    const tenant = c.req.param("tenant");
    if (await isOperatorToken(c, token)) {
      if (!allowed.includes("operator")) throw operatorOnly();
      if (tenant && !opts.tenantMayBeNew && !(await tenantExists(c.env.DB, tenant))) throw notFound("tenant");
      c.set("principal", { kind: "operator" });
      return next();
    }
    const key = await verifyKey(c.env.DB, token);
    if (!key) return refuseCredential(c, token);
    admitKey(c, key, tenant, allowed);
    return next();
  };
}

/** The checks every verified tenant key passes, wherever its row was loaded. */
export function admitKey(c: Context<AppEnv>, key: KeyRecord, tenant: string | undefined, allowed: Allowed[], touch = true): KeyRecord {
  if (tenant !== undefined && key.tenant !== tenant) throw notFound("tenant");
  if (!allowed.includes(key.role)) throw new DomainError("forbidden", `a ${key.role} key cannot do this`);
  c.set("principal", { kind: "key", ...key });
  if (touch) c.executionCtx.waitUntil(touchKey(c.env.DB, key).catch(() => undefined));
  return key;
}

export { unauthorized };
