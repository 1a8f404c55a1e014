import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_QUOTAS, type QuotaConfig } from "../../shared/quota.js";
import type { CircuitEnv } from "../circuit/client.js";
import { CrmError } from "../connectors/errors.js";
import { acquire, DEFAULT_429_PAUSE_MS, forgetLocalQuota, pause, quotaUsage, throttleWatch } from "./client.js";

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

/** A fresh connector short of budget (as after a 429), not merely waiting for a cold lease; what it defers is kept to settle. */
function shortOfBudget(tenant: string) {
  forgetLocalQuota();
  const connector = `${tenant}-${Math.random().toString(36).slice(2)}`;
  const deferred: Promise<unknown>[] = [];
  const defer = (p: Promise<unknown>) => void deferred.push(p);
  pause(circuit, tenant, connector, 0, defer, true);
  return { connector, deferred, defer };
}

describe("quota guard: the wait is fair between nodes", () => {
  it("a node whose burst came first cannot shut another node out of the line", async () => {
    const quota: QuotaConfig = { requests: 2, perSeconds: 1 };
    const { connector, deferred, defer } = shortOfBudget("t-fair");
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

describe("quota guard: a flooding node does not starve a quiet one", () => {
  it("node a at 10x the quota, node b at a quarter of it: b's calls are served, a gets the rest", async () => {
    const quota: QuotaConfig = { requests: 4, perSeconds: 1 };
    const { connector, deferred, defer } = shortOfBudget("t-flood");
    const ask = (node: string) => acquire({ env: circuit, tenant: "t-flood", connector, node, quota, stepDeadline: Date.now() + 1500, holdMs: 500, defer }).then((a) => a.ok);
    const a: Promise<boolean>[] = [];
    const b: Promise<boolean>[] = [];
    // 5 s: a sends 40 calls a second, b one a second.
    for (let tick = 0; tick < 50; tick++) {
      for (let i = 0; i < 4; i++) a.push(ask("a"));
      if (tick % 10 === 5) b.push(ask("b"));
      await new Promise((r) => setTimeout(r, 100));
    }
    const as = (await Promise.all(a)).filter(Boolean).length;
    const bs = (await Promise.all(b)).filter(Boolean).length;
    await Promise.allSettled(deferred);
    // On main b got 1 or 2 of its 5: the pool went to whoever looked first, and a always had more looking.
    expect(bs).toBeGreaterThanOrEqual(4);
    // The budget is not lost to fairness: about 3 a second in all (a lease costs a fifth of the window).
    expect(as + bs).toBeGreaterThanOrEqual(10);
  }, 20_000);
});

describe("quota guard: one throttled reply reaches the object once", () => {
  /** The pauses (ms from now, rounded to 100 ms; a millisecond passed makes "now" -0, which toEqual tells from 0) the guard object is sent for one CRM call's reply and error. */
  async function pausesSent(status: number, headers: Record<string, string>, error: unknown): Promise<number[]> {
    const pauses: number[] = [];
    const ns = { idFromName: (n: string) => n, get: () => ({ throttled: async (r: { until: number }) => void pauses.push(Math.max(0, Math.round((r.until - Date.now()) / 100) * 100)) }) };
    const w = throttleWatch({ CIRCUIT: ns } as unknown as CircuitEnv, "t-watch", `c-${Math.random().toString(36).slice(2)}`, (p) => void p.catch(() => undefined));
    w.observe(status, new Headers(headers));
    w.failed(error);
    await new Promise((r) => setTimeout(r, 0));
    return pauses;
  }
  const throttled = (retryAfterSeconds?: number) => new CrmError("crm_rate_limited", "throttled", retryAfterSeconds);
  // HubSpot's 429: no Retry-After, the secondly window at zero (errors.ts turns that into 1 s).
  const hubspotZero = { "x-hubspot-ratelimit-secondly-remaining": "0" };

  it.each([
    ["headers already paused for what the error says: once, not twice", 429, hubspotZero, throttled(1), [1000]],
    ["a Retry-After that outlasts the headers' reset still extends the pause", 429, hubspotZero, throttled(10), [1000, 10_000]],
    ["Retry-After only: once, for its wait", 429, { "retry-after": "3" }, throttled(3), [3000]],
    ["nothing stated: once, for the default", 429, {}, throttled(), [DEFAULT_429_PAUSE_MS]],
    ["a failure that is not throttling: none", 500, {}, new CrmError("crm_unreachable", "boom"), []],
    ["an unexpected error: none", 500, {}, new Error("unexpected"), []],
    // A hostile or broken CRM: no reply pauses a connector for more than 10 min, none for less than nothing.
    ["Retry-After of 10^9 s: 10 min", 429, { "retry-after": "999999999" }, throttled(999_999_999), [600_000]],
    ["a reset epoch in 2999 on an answered call: 10 min", 200, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Date.parse("2999-01-01T00:00:00Z") / 1000) }, undefined, [600_000]],
    ["Retry-After as a date in 1970: no wait", 429, { "retry-after": "Thu, 01 Jan 1970 00:00:00 GMT", "x-ratelimit-remaining": "0" }, throttled(0), [0]],
    ["Retry-After negative: no wait", 429, { "retry-after": "-5", "x-ratelimit-remaining": "0" }, throttled(0), [0]],
    ["garbage: the 1 s default", 429, { "retry-after": "soon", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "later" }, throttled(1), [1000]],
  ])("%s", async (_name, status, headers, error, expected) => {
    expect(await pausesSent(status, headers, error)).toEqual(expected);
  });
});

describe("quota guard: a quota changed while calls run", () => {
  it("tokens leased under the old quota are not spent once the quota is lowered", async () => {
    forgetLocalQuota();
    const connector = `change-${Math.random().toString(36).slice(2)}`;
    const deferred: Promise<unknown>[] = [];
    const ask = (quota: QuotaConfig) => acquire({ env: circuit, tenant: "t-change", connector, node: "n", quota, stepDeadline: Date.now() + 300, holdMs: 1000, defer: (p) => void deferred.push(p) });
    // A busy isolate under the rest default (1000/1 s): its pool holds a batch of tokens.
    const roomy = { requests: 1000, perSeconds: 1 };
    for (let i = 0; i < 3; i++) {
      expect((await Promise.all(Array.from({ length: 40 }, () => ask(roomy)))).every((a) => a.ok)).toBe(true);
      await Promise.allSettled(deferred.splice(0));
    }
    // The admin lowers it to what the CRM really allows: 1 a minute, already spent by the calls above.
    const lowered = { requests: 1, perSeconds: 60 };
    const after = await Promise.all(Array.from({ length: 10 }, () => ask(lowered)));
    await Promise.allSettled(deferred);
    expect(after.filter((a) => a.ok).length).toBe(0);
  });

  it("calls already waiting when the quota is lowered ask under the new one", async () => {
    forgetLocalQuota();
    const connector = `change-wait-${Math.random().toString(36).slice(2)}`;
    const deferred: Promise<unknown>[] = [];
    const ask = (quota: QuotaConfig, ms: number) => acquire({ env: circuit, tenant: "t-change", connector, node: "n", quota, stepDeadline: Date.now() + ms, holdMs: 500, defer: (p) => void deferred.push(p) });
    const old = { requests: 2, perSeconds: 1 };
    expect((await Promise.all([ask(old, 300), ask(old, 300)])).every((a) => a.ok)).toBe(true);
    // Five calls wait for the next window under the old quota (their config copy)…
    const waiting = Array.from({ length: 5 }, () => ask(old, 3000));
    await new Promise((r) => setTimeout(r, 50));
    // …when a call under the lowered quota (1 a minute, spent) arrives.
    expect((await ask({ requests: 1, perSeconds: 60 }, 300)).ok).toBe(false);
    // Before, the waiters kept asking under 2 a second and went through (2 of the 5 here).
    expect((await Promise.all(waiting)).filter((a) => a.ok).length).toBe(0);
    await Promise.allSettled(deferred);
  });
});

describe("quota guard: usage's last 429 is a refusal, not an ordinary answer at the end of a window", () => {
  it("headers at zero on a 200 pause the connector without a last 429; a 429 and Salesforce's throttled 403 are one", async () => {
    const connector = `last429-${Math.random().toString(36).slice(2)}`;
    const quota = { requests: 10, perSeconds: 2 };
    const deferred: Promise<unknown>[] = [];
    const watch = () => throttleWatch(circuit, "t-last429", connector, (p) => void deferred.push(p));
    // Pipedrive's 10th call of its 2 s window: answered, with nothing left.
    watch().observe(200, new Headers({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2" }));
    await Promise.allSettled(deferred.splice(0));
    const ok = await quotaUsage(circuit, "t-last429", connector, quota);
    expect(ok?.pausedUntil).not.toBeNull();
    expect(ok?.last429).toBeNull();
    // Salesforce's daily allowance spent: HTTP 403 REQUEST_LIMIT_EXCEEDED, its header at the max.
    const sforce = watch();
    sforce.observe(403, new Headers({ "sforce-limit-info": "api-usage=15000/15000" }));
    sforce.failed(new CrmError("crm_rate_limited", "throttled", 60));
    await Promise.allSettled(deferred.splice(0));
    expect((await quotaUsage(circuit, "t-last429", connector, quota))?.last429?.retryAfterSeconds).toBe(60);
  });
});

describe("quota guard: a spent daily budget", () => {
  it("sheds without asking the object on every call, and sees a raised budget within a second", async () => {
    forgetLocalQuota();
    const connector = `daily-${Math.random().toString(36).slice(2)}`;
    const real = circuit.CIRCUIT!;
    let leases = 0;
    // The real object, its lease calls counted.
    const counted = {
      CIRCUIT: {
        idFromName: (n: string) => real.idFromName(n),
        get: (id: DurableObjectId) => {
          const s = real.get(id);
          return { lease: (r: Parameters<typeof s.lease>[0]) => (leases++, s.lease(r)), shed: (n: number) => s.shed(n), throttled: (r: Parameters<typeof s.throttled>[0]) => s.throttled(r) };
        },
      },
    } as unknown as CircuitEnv;
    const deferred: Promise<unknown>[] = [];
    const ask = (quota: QuotaConfig) => acquire({ env: counted, tenant: "t-daily", connector, node: "n", quota, stepDeadline: Date.now() + 500, holdMs: 1000, defer: (p) => void deferred.push(p) });
    const spent = { requests: 100, perSeconds: 1, daily: 2 };
    expect((await ask(spent)).ok).toBe(true);
    expect((await ask(spent)).ok).toBe(true);
    await Promise.allSettled(deferred.splice(0));
    leases = 0;
    // The rest of the day: 30 calls, each shed (nothing left until midnight UTC).
    for (let i = 0; i < 30; i++) expect((await ask(spent)).ok).toBe(false);
    // On main each asked the object: 30 round trips. Now one, then the refusal is remembered.
    expect(leases).toBeLessThanOrEqual(2);
    // The admin raises the daily budget: the next call asks and gets a token.
    expect((await ask({ ...spent, daily: 100 })).ok).toBe(true);
    await Promise.allSettled(deferred);
  });
});
