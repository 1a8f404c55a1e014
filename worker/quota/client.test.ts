import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_QUOTAS, type QuotaConfig } from "../../shared/quota.js";
import type { CircuitEnv } from "../circuit/client.js";
import { acquire, forgetLocalQuota } from "./client.js";

const circuit = env as unknown as CircuitEnv;
let run = 0;

/** N calls at once on a fresh connector, no deadline to speak of: how many are admitted. */
async function burst(quota: QuotaConfig, n: number, holdMs: number): Promise<number> {
  forgetLocalQuota();
  const connector = `prop-${++run}-${Math.random().toString(36).slice(2)}`;
  const deferred: Promise<unknown>[] = [];
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      acquire({ env: circuit, tenant: "t-prop", connector, node: `node-${i % 3}`, quota, stepDeadline: Date.now() + 60_000, holdMs, defer: (p) => deferred.push(p) }),
    ),
  );
  await Promise.allSettled(deferred);
  return answers.filter((a) => a.ok).length;
}

describe("quota guard: a burst within the quota is never shed", () => {
  it("every kind's default: min(requests, concurrency, 20) concurrent calls all admitted", async () => {
    for (const [kind, q] of Object.entries(DEFAULT_QUOTAS)) {
      const n = Math.min(q.requests, q.concurrency ?? q.requests, 20);
      expect([kind, await burst(q, n, 5000)]).toEqual([kind, n]);
    }
  });

  it("random quotas: N ≤ min(requests, concurrency) concurrent calls without a deadline are all admitted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          requests: fc.integer({ min: 1, max: 10_000 }),
          perSeconds: fc.integer({ min: 1, max: 3600 }),
          concurrency: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
          daily: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
        }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 100, max: 10_000 }),
        async (r, want, holdMs) => {
          const quota: QuotaConfig = { requests: r.requests, perSeconds: r.perSeconds, ...(r.concurrency !== undefined ? { concurrency: r.concurrency } : {}), ...(r.daily !== undefined ? { daily: r.daily } : {}) };
          const n = Math.min(want, quota.requests, quota.concurrency ?? quota.requests, quota.daily ?? quota.requests);
          expect(await burst(quota, n, holdMs)).toBe(n);
        },
      ),
      { numRuns: 40 },
    );
  });
});
