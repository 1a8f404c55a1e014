import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_QUOTAS, type QuotaConfig } from "../../shared/quota.js";
import type { CircuitEnv } from "../circuit/client.js";
import { CrmError } from "../connectors/errors.js";
import { acquire, DEFAULT_429_PAUSE_MS, forgetLocalQuota, pause, throttleWatch } from "./client.js";

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

describe("quota guard: the wait is fair between nodes", () => {
  it("a node whose burst came first cannot shut another node out of the line", async () => {
    forgetLocalQuota();
    const connector = `fair-${Math.random().toString(36).slice(2)}`;
    const quota: QuotaConfig = { requests: 2, perSeconds: 1 };
    const deferred: Promise<unknown>[] = [];
    const defer = (p: Promise<unknown>) => void deferred.push(p);
    // Short of budget (as after a 429), not merely waiting for a cold lease.
    pause(circuit, "t-fair", connector, 0, defer);
    const ask = (node: string) => {
      const started = Date.now();
      return acquire({ env: circuit, tenant: "t-fair", connector, node, quota, stepDeadline: started + 4000, holdMs: 1000, defer }).then((a) => ({ ok: a.ok, ms: Date.now() - started }));
    };
    const a = Array.from({ length: 80 }, () => ask("a"));
    await new Promise((r) => setTimeout(r, 10));
    const b = await ask("b");
    const as = await Promise.all(a);
    await Promise.allSettled(deferred);
    // A token frees up every ~1.4 s here (a window plus its lease): a's burst fills the line for
    // the deadline; b's first call still gets the next place in it: it is admitted or waits for
    // its turn, rather than being shed at once behind all of a's calls.
    expect(b.ok || b.ms >= 500).toBe(true);
    // a's calls past what the deadline can serve are shed at once, not kept waiting.
    expect(as.filter((x) => !x.ok && x.ms < 100).length).toBeGreaterThan(60);
  });
});

describe("quota guard: one throttled reply reaches the object once", () => {
  /** A guard namespace that only records the pauses it is sent. */
  function recording() {
    const pauses: number[] = [];
    const ns = { idFromName: (n: string) => n, get: () => ({ throttled: async (r: { until: number }) => void pauses.push(r.until - Date.now()) }) };
    return { env: { CIRCUIT: ns } as unknown as CircuitEnv, pauses };
  }
  const watch = (env: CircuitEnv) => throttleWatch(env, "t-watch", `c-${Math.random().toString(36).slice(2)}`, (p) => void p.catch(() => undefined));
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it("a 429 whose rate-limit headers already paused the connector: one pause, not two", async () => {
    const { env, pauses } = recording();
    const w = watch(env);
    // HubSpot: no Retry-After, the secondly window at zero (errors.ts turns that into 1 s).
    w.observe(429, new Headers({ "x-hubspot-ratelimit-secondly-remaining": "0" }));
    w.failed(new CrmError("crm_rate_limited", "throttled", 1));
    await flush();
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toBeGreaterThan(900);
  });

  it("a Retry-After that outlasts the headers' reset still extends the pause", async () => {
    const { env, pauses } = recording();
    const w = watch(env);
    w.observe(429, new Headers({ "x-hubspot-ratelimit-secondly-remaining": "0" }));
    w.failed(new CrmError("crm_rate_limited", "throttled", 10));
    await flush();
    expect(pauses).toHaveLength(2);
    expect(pauses[1]).toBeGreaterThan(9000);
  });

  it("a 429 with Retry-After only, or with nothing, pauses once for its wait or the default", async () => {
    const a = recording();
    const wa = watch(a.env);
    wa.observe(429, new Headers({ "retry-after": "3" }));
    wa.failed(new CrmError("crm_rate_limited", "throttled", 3));
    const b = recording();
    const wb = watch(b.env);
    wb.observe(429, new Headers());
    wb.failed(new CrmError("crm_rate_limited", "throttled"));
    await flush();
    expect(a.pauses).toHaveLength(1);
    expect(a.pauses[0]).toBeGreaterThan(2900);
    expect(b.pauses).toHaveLength(1);
    expect(b.pauses[0]).toBeGreaterThan(DEFAULT_429_PAUSE_MS - 100);
  });

  it("a failure that is not throttling pauses nothing", async () => {
    const { env, pauses } = recording();
    const w = watch(env);
    w.observe(500, new Headers());
    w.failed(new CrmError("crm_unreachable", "boom"));
    w.failed(new Error("unexpected"));
    await flush();
    expect(pauses).toHaveLength(0);
  });
});
