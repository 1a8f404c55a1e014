import type { Context } from "hono";
import type { AppEnv, Env } from "../env.js";
import { parseKeyToken } from "../store/keys.js";
import { DomainError } from "../services/errors.js";

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
    throw new DomainError("rate_limited", "too many identify calls for this tenant; retry shortly");
  }
}

/**
 * The client's address for counting failed authentications. Cloudflare's edge sets
 * CF-Connecting-IP and replaces any value a client sent, so deployed it names the client; a local
 * workerd passes the header straight through, so there (LOCAL_MODE) every client is one address.
 */
export function clientAddress<E extends { Bindings: Env }>(c: Context<E>): string {
  if (c.env.LOCAL_MODE === "true") return "local";
  return addressBucket(c.req.header("cf-connecting-ip") ?? "unknown");
}

/**
 * An IPv6 client usually holds a whole /64 (SLAAC, privacy addresses): counted per address it
 * would get 2^64 budgets, so it is counted per /64. IPv4, in any spelling with dots, is itself.
 */
export function addressBucket(ip: string): string {
  if (!ip.includes(":") || ip.includes(".")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The AUTH_FAIL_LIMIT period in wrangler.toml: a limited client may try again within it. */
const FAILED_AUTH_PERIOD_S = 60;

/**
 * Counts one failed authentication of the key the token names (or "no-key": garbage and wrong
 * operator tokens) from this client; true when that pair is past its limit. Only failures come
 * here, after the credential was checked, so a key that verifies is never refused by a neighbour's
 * failures — not even one behind the same NAT guessing at that same key.
 */
export async function failedAuthLimited<E extends { Bindings: Env }>(c: Context<E>, token: string): Promise<boolean> {
  const limiter = c.env.AUTH_FAIL_LIMIT;
  if (!limiter) return false;
  const { success } = await limiter.limit({ key: `${clientAddress(c)}|${parseKeyToken(token)?.id ?? "no-key"}` });
  if (!success) c.header("Retry-After", String(FAILED_AUTH_PERIOD_S));
  return !success;
}

export const tooManyFailedAuth = () => new DomainError("too_many_failed_auth", "too many failed authentications; retry later");
