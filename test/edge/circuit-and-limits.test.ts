import { describe, expect, it } from "vitest";
import { admit, closed, POLICY, record } from "../../worker/circuit/policy.js";
import { crmCalls, crmPath, identify, newTenant, putConnector, putNode } from "./helpers.js";

describe("circuit policy", () => {
  it("opens on repeated failures, lets one probe through after the cool-down, closes on its success", () => {
    let s = closed(0);
    for (let i = 0; i < POLICY.minFailures - 1; i++) s = record(s, { ok: 0, failed: 1 }, i);
    expect(s.openUntil).toBe(0);
    s = record(s, { ok: 0, failed: 1 }, 10);
    expect(s.openUntil).toBe(10 + POLICY.coolDownMs);
    expect(admit(s, 20)[1].allowed).toBe(false);
    const [probing, v] = admit(s, s.openUntil);
    expect(v).toMatchObject({ allowed: true, probe: true });
    expect(admit(probing, s.openUntil + 1)[1].allowed).toBe(false);
    expect(record(probing, { ok: 1, failed: 0, probe: true }, s.openUntil + 5).openUntil).toBe(0);
    expect(record(probing, { ok: 0, failed: 1, probe: true }, s.openUntil + 5).openUntil).toBeGreaterThan(s.openUntil);
  });
  it("does not open while failures are a small share of the calls", () => {
    let s = closed(0);
    s = record(s, { ok: 100, failed: 0 }, 1);
    for (let i = 0; i < 20; i++) s = record(s, { ok: 0, failed: 1 }, 2 + i);
    expect(s.openUntil).toBe(0);
    // A new window forgets the old calls.
    const later = record(s, { ok: 0, failed: POLICY.minFailures }, POLICY.windowMs + 5);
    expect(later.openUntil).toBeGreaterThan(0);
  });
});

describe("circuit breaker across calls (Durable Object)", () => {
  it("after repeated CRM failures the edge fails fast with circuit_open and stops calling the CRM", async () => {
    const t = await newTenant();
    const url = crmPath("contract", "http-503");
    await putConnector(t, "crm", { kind: "webhook", url, cache: { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 } });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    const reasons: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await identify(t, "n", String(1000 + i));
      expect(await res.json()).toEqual({ status: "fail", destination: "false" });
      reasons.push(res.headers.get("x-bridge-reason") ?? "");
      // Reports reach the shared circuit after the answer.
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(reasons.slice(0, POLICY.minFailures)).toEqual(Array(POLICY.minFailures).fill("crm_http_503"));
    expect(reasons.at(-1)).toBe("circuit_open");
    expect((await crmCalls(url)).count).toBeLessThan(12);
  });
});

// The failed-auth limit is attacked in auth-limits.test.ts.
describe("identify rate limit", () => {
  it("answers 429 rate_limited with Retry-After once the tenant's limiter says no", async () => {
    const { limitIdentify } = await import("../../worker/http/limits.js");
    const headers = new Map<string, string>();
    const calls: string[] = [];
    const c = {
      env: { IDENTIFY_LIMIT: { limit: async ({ key }: { key: string }) => (calls.push(key), { success: calls.length <= 2 }) } },
      header: (k: string, v: string) => headers.set(k, v),
    } as unknown as Parameters<typeof limitIdentify>[0];
    await limitIdentify(c, "acme");
    await limitIdentify(c, "acme");
    const err = await limitIdentify(c, "acme").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "rate_limited" });
    const { STATUS } = await import("../../worker/http/errors.js");
    expect(STATUS.rate_limited).toBe(429);
    expect(headers.get("Retry-After")).toBe("10");
    expect(calls).toEqual(["acme", "acme", "acme"]);
  });
});
