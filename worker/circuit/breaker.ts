import { DurableObject } from "cloudflare:workers";
import type { QuotaConfig, QuotaUsage } from "../../shared/quota.js";
import { initialQuota, lease, recordShed, throttled, usage, type LeaseAnswer } from "../quota/policy.js";
import { admit, closed, record, type CircuitState, type Verdict } from "./policy.js";

/**
 * One circuit per tenant + connector, shared by every isolate: the state has to be in one place
 * for "the CRM keeps failing" to be seen across a fleet, and a Durable Object is the Workers
 * primitive for one place. Kept in memory: an evicted object starts closed, which is safe.
 *
 * The same object is the connector's quota guard (worker/quota/): one place that hands out the
 * CRM's API budget to isolates and hears of every 429. Its budget is in memory too; an object is
 * evicted only after it has been idle for a while, and by then its windows have passed.
 */
export class CircuitBreaker extends DurableObject {
  private state: CircuitState = closed(Date.now());
  private quota = initialQuota();

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
    return lease(this.quota, r.quota, r.want, r.holdMs, now);
  }

  /** A CRM's 429 (or its rate-limit headers at zero) seen by any isolate pauses the connector everywhere. */
  throttled(r: { until: number; shed?: number }): { pausedUntil: number } {
    const now = Date.now();
    throttled(this.quota, Math.min(r.until, now + 600_000), now);
    return { pausedUntil: this.quota.pausedUntil };
  }

  shed(n: number): void {
    recordShed(this.quota, n, Date.now());
  }

  usage(quota: QuotaConfig): QuotaUsage {
    return usage(this.quota, quota, Date.now());
  }
}
