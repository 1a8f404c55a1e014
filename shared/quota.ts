import { z } from "zod";

/**
 * How much of a CRM's API a connector may use (issue 11): `requests` per `perSeconds`, at most
 * `daily` per UTC day, at most `concurrency` calls at once. Absent, the kind's default applies.
 */
export const quotaConfig = z
  .object({
    requests: z.number().int().min(1).max(1_000_000),
    perSeconds: z.number().int().min(1).max(86_400),
    daily: z.number().int().min(1).max(100_000_000).optional(),
    concurrency: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();
export type QuotaConfig = z.infer<typeof quotaConfig>;

/**
 * Each CRM's published limit for the call a lookup makes, at the smallest plan that has API
 * access; docs/connectors.md cites the page each comes from. A tenant on a bigger plan sets
 * `quota` on the connector. rest and webhook have no published limit: theirs is our own
 * ceiling, there so that a 429 from the tenant's server still pauses every isolate.
 */
export const DEFAULT_QUOTAS: Record<string, QuotaConfig> = {
  hubspot: { requests: 4, perSeconds: 1 },
  pipedrive: { requests: 10, perSeconds: 2 },
  zendesk: { requests: 200, perSeconds: 60 },
  freshdesk: { requests: 200, perSeconds: 60 },
  salesforce: { requests: 25, perSeconds: 1, daily: 15_000 },
  zoho: { requests: 10, perSeconds: 1, daily: 50_000, concurrency: 10 },
  dynamics365: { requests: 6000, perSeconds: 300, concurrency: 52 },
  rest: { requests: 1000, perSeconds: 1 },
  webhook: { requests: 1000, perSeconds: 1 },
};

export function effectiveQuota(config: { kind: string; quota?: QuotaConfig | undefined }): QuotaConfig & { source: "connector" | "default" } {
  if (config.quota) return { ...config.quota, source: "connector" };
  return { ...(DEFAULT_QUOTAS[config.kind] ?? { requests: 1000, perSeconds: 1 }), source: "default" };
}

/** What the connector's quota guard has seen (GET …/connectors/:c/usage). */
export const quotaUsage = z.object({
  windowSeconds: z.number().int(),
  limit: z.number().int(),
  /** Calls let through (tokens leased to isolates) in the last window: the current rate against `limit`. */
  inWindow: z.number().int(),
  dailyUsed: z.number().int(),
  dailyLimit: z.number().int().nullable(),
  /** Calls the guard turned away (answered stale or crm_quota) in the last hour. */
  shedLastHour: z.number().int(),
  /** While set, no isolate calls the CRM (a 429's Retry-After or rate-limit headers at zero). */
  pausedUntil: z.string().nullable(),
  last429: z.object({ at: z.string(), retryAfterSeconds: z.number().int() }).nullable(),
});
export type QuotaUsage = z.infer<typeof quotaUsage>;

export const connectorUsage = quotaUsage.extend({
  connector: z.string(),
  quota: quotaConfig.extend({ source: z.enum(["connector", "default"]) }),
});
export type ConnectorUsage = z.infer<typeof connectorUsage>;
