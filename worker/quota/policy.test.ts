import { describe, expect, it } from "vitest";
import type { QuotaConfig } from "../../shared/quota.js";
import { initialQuota, lease, MAX_GRANTS, toStored, usage } from "./policy.js";

/** Leases as a fleet would ask for them, every `stepMs`; what was granted, as the isolates saw it. */
function fleet(q: QuotaConfig, want: number, stepMs: number, untilMs: number) {
  const s = initialQuota();
  const granted: { at: number; until: number; n: number }[] = [];
  let largest = 0;
  for (let now = 0; now < untilMs; now += stepMs) {
    const a = lease(s, q, want, 1000, now);
    if (a.granted > 0) granted.push({ at: now, until: now + a.leaseMs, n: a.granted });
    largest = Math.max(largest, s.grants.length);
  }
  return { s, granted, largest };
}

/** No window of `perSeconds` at the CRM can hold more than `requests`, every token spent at its lease's very end. */
function worstWindow(q: QuotaConfig, granted: { at: number; until: number; n: number }[]): number {
  let worst = 0;
  for (const g of granted) {
    const inWindow = granted.filter((h) => h.until > g.until - q.perSeconds * 1000 && h.at <= g.until).reduce((sum, h) => sum + h.n, 0);
    worst = Math.max(worst, inWindow);
  }
  return worst;
}

describe("quota policy under a busy tenant", () => {
  it("keeps a bounded list of grants on a long window with many small leases (the object's CPU and storage)", () => {
    // An hour's quota of 100 000, one token a lease every 10 ms (a hundred isolates' trickle).
    const q = { requests: 100_000, perSeconds: 3600 };
    const { s, largest } = fleet(q, 1, 10, 600_000);
    expect(largest).toBeLessThanOrEqual(MAX_GRANTS);
    // Every lease writes the whole state: it stays a few KiB, far under a stored value's limit.
    expect(JSON.stringify(toStored(s)).length).toBeLessThan(32 * 1024);
    // Nothing is lost from the count: all 60 000 calls are still in the hour.
    expect(usage(s, q, 600_000).inWindow).toBe(60_000);
  });

  it("merging grants never lets more than the quota into a window, and leaves most of it usable", () => {
    const q = { requests: 400, perSeconds: 2 };
    const { granted, largest } = fleet(q, 1, 1, 20_000);
    expect(largest).toBeLessThanOrEqual(MAX_GRANTS);
    expect(worstWindow(q, granted)).toBeLessThanOrEqual(400);
    // A lease costs a fifth of the window (policy.ts), merging a little more: still 3/4 of the quota.
    expect(granted.reduce((sum, g) => sum + g.n, 0)).toBeGreaterThanOrEqual(0.75 * 400 * 10);
  });
});

describe("quota policy: the daily budget at midnight UTC", () => {
  it("a budget spent just before midnight is refused until midnight, then granted afresh", () => {
    const q = { requests: 100, perSeconds: 1, daily: 3 };
    const s = initialQuota();
    const lastSecond = Date.parse("2026-12-01T23:59:59Z");
    expect(lease(s, q, 10, 1000, lastSecond).granted).toBe(3);
    const refused = lease(s, q, 1, 1000, lastSecond + 500);
    expect([refused.granted, refused.retryInMs]).toEqual([0, 500]);
    // The grants of the last second still count in their window, not against the new day.
    expect(lease(s, q, 10, 1000, lastSecond + 1000).granted).toBe(3);
    expect(usage(s, q, lastSecond + 1000)).toMatchObject({ dailyUsed: 3, dailyLimit: 3 });
  });
});
