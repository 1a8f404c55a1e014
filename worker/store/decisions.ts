import { z } from "zod";
import type { Env } from "../env.js";
import { tenantHome, type DecisionQuery } from "../tenant/home.js";

export const decisionEntry = z.object({
  at: z.string(),
  node: z.string(),
  maskedId: z.string(),
  outcome: z.enum(["success", "failure", "route", "invalid"]),
  status: z.enum(["ok", "fail"]),
  destination: z.string(),
  reason: z.string().nullable(),
  cache: z.enum(["HIT", "MISS", "STALE", "BYPASS"]),
  ms: z.number(),
  steps: z.array(
    z.object({ connector: z.string(), result: z.string(), cache: z.string(), reason: z.string().optional(), matches: z.number().optional(), rule: z.union([z.number(), z.string()]).optional(), crmMs: z.number().optional(), quotaMs: z.number().optional() }),
  ),
});
export type DecisionEntry = z.infer<typeof decisionEntry>;

/**
 * Decisions are written in batches, to the tenant's own Durable Object (worker/tenant/home.ts),
 * never to the D1 database every tenant shares: the first entry of a window schedules one flush
 * (kept alive by waitUntil) that sends everything the isolate logged meanwhile, one call per
 * tenant. Under load that is one write per tenant per window instead of one per call.
 */
export const FLUSH_AFTER_MS = 100;
type Pending = { entries: DecisionEntry[]; keys: Set<string> };
// eslint-disable-next-line no-restricted-syntax -- decisions waiting for their flush, at most FLUSH_AFTER_MS: the flush replaces the map
let pending = new Map<string, Pending>();
let flushing: Promise<void> | null = null;

export function logDecision(env: Pick<Env, "TENANT_HOME">, tenant: string, entry: DecisionEntry, keyId: string | null, waitUntil: (p: Promise<unknown>) => void): void {
  let p = pending.get(tenant);
  if (!p) pending.set(tenant, (p = { entries: [], keys: new Set() }));
  p.entries.push(entry);
  if (keyId) p.keys.add(keyId);
  if (flushing) return;
  flushing = new Promise<void>((r) => setTimeout(r, FLUSH_AFTER_MS)).then(async () => {
    const batch = pending;
    pending = new Map();
    flushing = null;
    await Promise.all([...batch].map(([t, b]) => tenantHome(env, t).append(b.entries, [...b.keys]).catch(() => undefined)));
  });
  // Only the request that opened the window waits for it: awaiting another request's promise is
  // something workerd warns about and may cancel.
  waitUntil(flushing);
}

export async function listDecisions(env: Pick<Env, "TENANT_HOME">, tenant: string, opts: DecisionQuery): Promise<DecisionEntry[]> {
  return tenantHome(env, tenant).list(opts);
}
