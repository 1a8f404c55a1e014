import { BoundedCache } from "../../shared/bounded-cache.js";
import { CrmError } from "./errors.js";
import type { LookupContext, LookupResult } from "./types.js";

// A CRM that answered 429 is left alone until its Retry-After passes: calling it sooner only
// burns the tenant's quota and can extend the ban. Per isolate, like the token cache.
const closedUntil = new BoundedCache<string, number>({ max: 5000 });
const MAX_WAIT_SECONDS = 600;
/** When a 429 names no Retry-After, back off this long. */
const DEFAULT_WAIT_SECONDS = 5;

const keyOf = (ctx: LookupContext) => `${ctx.tenant}\u0000${ctx.connectorId}`;

/** Fails fast with crm_rate_limited while a CRM's Retry-After runs, and starts that wait on a 429. */
export async function honourRetryAfter(ctx: LookupContext, lookup: () => Promise<LookupResult>, now = Date.now): Promise<LookupResult> {
  const key = keyOf(ctx);
  const until = closedUntil.get(key);
  if (until !== undefined) {
    if (until > now()) throw new CrmError("crm_rate_limited", "CRM rate limit: waiting for its Retry-After", Math.ceil((until - now()) / 1000));
    closedUntil.delete(key);
  }
  try {
    return await lookup();
  } catch (e) {
    if (e instanceof CrmError && e.code === "crm_rate_limited") {
      const wait = Math.min(MAX_WAIT_SECONDS, e.retryAfterSeconds ?? DEFAULT_WAIT_SECONDS);
      closedUntil.set(key, now() + wait * 1000);
    }
    throw e;
  }
}
