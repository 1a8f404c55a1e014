import { BoundedCache } from "../../shared/bounded-cache.js";
import type { CachePolicy } from "../../shared/connector.js";
import { sha256Hex } from "../security/crypto.js";

/**
 * The decision cache lives in KV: one store shared by every isolate and data centre, with
 * per-entry expiry. Entries carry their own write time, so "fresh" and "stale" are decided
 * here, not by KV's TTL (which only bounds how long the stale copy is kept).
 */
export type CachedDecision = {
  /** "true", "false" or "X,Y". */
  d: string;
  /** A record was found (false = negative entry for notFound). */
  f: boolean;
  /** Epoch ms of the CRM answer. */
  at: number;
  rule?: number | string;
  m?: number;
  /** Caller-number lookups: the matched customer's id, read from the record. */
  id?: string;
};

/** `callerNumber` (E.164) set: the entry of a number lookup, never confused with an id's. */
export type CacheKeyParts = { tenant: string; generation: number; connector: string; rev: number; customerId: string; callerNumber?: string };

/** The tenant is part of every key, and the id or number only as a hash. */
export async function cacheKey(p: CacheKeyParts): Promise<string> {
  // Id keys stay as they were (entries survive the upgrade); a number key says so in the hashed text and the key.
  if (p.callerNumber !== undefined) return `d:${p.tenant}:${p.generation}:${p.connector}:${p.rev}:n:${await sha256Hex(`${p.tenant}\u0000tel\u0000${p.callerNumber}`)}`;
  return `d:${p.tenant}:${p.generation}:${p.connector}:${p.rev}:${await sha256Hex(`${p.tenant}\u0000${p.customerId}`)}`;
}

export function freshFor(entry: CachedDecision, policy: CachePolicy): number {
  return (entry.f ? policy.ttlSeconds : policy.negativeTtlSeconds) * 1000;
}

export function isFresh(entry: CachedDecision, policy: CachePolicy, now: number): boolean {
  return now - entry.at < freshFor(entry, policy);
}

export function isUsableStale(entry: CachedDecision, policy: CachePolicy, now: number): boolean {
  return now - entry.at < freshFor(entry, policy) + policy.staleIfErrorSeconds * 1000;
}

/**
 * A one-second copy of KV reads inside the isolate. Keys carry the tenant's generation and the
 * connector's revision (read from D1 on every call), so full and connector purges still take
 * effect at once; a one-id purge reaches other isolates within this window, well inside
 * KV's own propagation time.
 */
const l1 = new BoundedCache<string, CachedDecision>({ max: 10_000, ttlMs: 1000 });

export async function readCached(kv: KVNamespace, key: string): Promise<CachedDecision | null> {
  const near = l1.get(key);
  if (near) return near;
  let entry: CachedDecision | null;
  try {
    entry = await kv.get<CachedDecision>(key, "json");
  } catch {
    // A broken cache must never break a call: treat it as a miss.
    return null;
  }
  // Misses are not kept: the next call must see the entry its own CRM call just wrote.
  if (entry) l1.set(key, entry);
  return entry;
}

export function forgetCached(key: string): void {
  l1.delete(key);
}

export async function writeCached(kv: KVNamespace, key: string, entry: CachedDecision, policy: CachePolicy): Promise<void> {
  l1.set(key, entry);
  const keepSeconds = Math.ceil(freshFor(entry, policy) / 1000) + policy.staleIfErrorSeconds;
  if (keepSeconds <= 0) return;
  // KV refuses expirations under 60 s; freshness is checked against `at`, so keeping it longer is harmless.
  await kv.put(key, JSON.stringify(entry), { expirationTtl: Math.max(60, keepSeconds) }).catch(() => undefined);
}
