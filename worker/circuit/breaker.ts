import { DurableObject } from "cloudflare:workers";
import type { QuotaConfig, QuotaUsage } from "../../shared/quota.js";
import { fromStored, initialQuota, lease, recordShed, throttled, toStored, usage, type LeaseAnswer, type StoredQuota } from "../quota/policy.js";
import { admit, closed, record, type CircuitState, type Verdict } from "./policy.js";

const QUOTA_KEY = "quota";

/**
 * One circuit per tenant + connector, shared by every isolate: the state has to be in one place
 * for "the CRM keeps failing" to be seen across a fleet, and a Durable Object is the Workers
 * primitive for one place. The circuit is kept in memory: an evicted object starts closed, which
 * is safe.
 *
 * The same object is the connector's quota guard (worker/quota/): one place that hands out the
 * CRM's API budget to isolates and hears of every 429. Its budget is durable, not only in memory:
 * a daily allowance (Salesforce's, Zoho's credits) spans hours in which the object may be evicted
 * or restarted, and one that forgot `dayUsed` would hand the whole day out again; a pause from a
 * 429's Retry-After, the last 429 and the live grants (so that a restart mid-window does not
 * grant the window twice) are kept with it.
 *
 * Write-behind with bounded loss: every change is written at once but with allowUnconfirmed, so
 * a lease's answer does not wait for the write to be replicated (the lease is on a call's path).
 * What a crash can lose is only what was changed in the moment before it (one storage commit,
 * milliseconds): at most the leases answered in that moment, each at most a quarter of the
 * window's requests (maxGrant), which the CRM's own 429 still backstops. An eviction loses
 * nothing: pending writes are flushed before an idle object goes.
 */
export class CircuitBreaker extends DurableObject {
  private state: CircuitState = closed(Date.now());
  private quota = initialQuota();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<StoredQuota>(QUOTA_KEY);
      if (stored) this.quota = fromStored(stored);
    });
  }

  private save(): void {
    void this.ctx.storage.put(QUOTA_KEY, toStored(this.quota), { allowUnconfirmed: true });
  }

  admit(): Verdict {
    const [next, verdict] = admit(this.state, Date.now());
    this.state = next;
    return verdict;
  }

  record(r: { ok: number; failed: number; probe?: boolean }): { openUntil: number } {
    this.state = record(this.state, r, Date.now());
    return { openUntil: this.state.openUntil };
  }

  /** Tokens for an isolate; `shed` reports the calls it turned away since its last lease. */
  lease(r: { quota: QuotaConfig; want: number; holdMs: number; shed: number }): LeaseAnswer {
    const now = Date.now();
    if (r.shed > 0) recordShed(this.quota, r.shed, now);
    const answer = lease(this.quota, r.quota, r.want, r.holdMs, now);
    if (answer.granted > 0 || r.shed > 0) this.save();
    return answer;
  }

  /** A CRM's 429 (or its rate-limit headers at zero) seen by any isolate pauses the connector everywhere. */
  throttled(r: { until: number; refused: boolean }): { pausedUntil: number } {
    const now = Date.now();
    throttled(this.quota, Math.min(r.until, now + 600_000), now, r.refused);
    this.save();
    return { pausedUntil: this.quota.pausedUntil };
  }

  shed(n: number): void {
    recordShed(this.quota, n, Date.now());
    this.save();
  }

  usage(quota: QuotaConfig): QuotaUsage {
    return usage(this.quota, quota, Date.now());
  }
}
