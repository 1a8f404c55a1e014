import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.js";
import { ApiError } from "./errors.js";

/**
 * Per-tenant limits on the Workers Rate Limiting binding (counted per data centre). A missing
 * binding means no limit, so a bare runtime still works.
 */
export async function limitIdentify(c: Context<AppEnv>, tenant: string): Promise<void> {
  const limiter = c.env.IDENTIFY_LIMIT;
  if (!limiter) return;
  const { success } = await limiter.limit({ key: tenant });
  if (!success) {
    c.header("Retry-After", "10");
    throw new ApiError(429, "rate_limited", "too many identify calls for this tenant; retry shortly");
  }
}

// Clients that failed too often are refused here without even looking at their key, so a
// key-guessing run costs neither D1 reads nor hashing. Per isolate; the binding counts per colo.
const blockedUntil = new Map<string, number>();
const BLOCK_MS = 60_000;

function clientKey(c: Context<AppEnv>): string {
  const tenant = /^\/v1\/tenants\/([^/]+)/.exec(c.req.path)?.[1] ?? "-";
  return `${tenant}|${c.req.header("cf-connecting-ip") ?? "local"}`;
}

/** Counts 401s per tenant + client address; past the limit, that client gets 429 for a minute. */
export function limitFailedAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const limiter = c.env.AUTH_FAIL_LIMIT;
    if (!limiter) return next();
    const key = clientKey(c);
    const until = blockedUntil.get(key);
    if (until !== undefined) {
      if (until > Date.now()) {
        c.header("Retry-After", String(Math.ceil((until - Date.now()) / 1000)));
        throw new ApiError(429, "too_many_failed_auth", "too many failed authentications; retry later");
      }
      blockedUntil.delete(key);
    }
    await next();
    if (c.res.status !== 401) return;
    const { success } = await limiter.limit({ key });
    if (!success) {
      if (blockedUntil.size > 10_000) blockedUntil.clear();
      blockedUntil.set(key, Date.now() + BLOCK_MS);
    }
  };
}
