import { describe, expect, it } from "vitest";
import { CrmError, crmStatusError, retryAfterSeconds } from "./errors.js";
import { honourRetryAfter } from "./rate-limit.js";
import type { LookupContext, LookupResult } from "./types.js";

const ctx = (connectorId: string): LookupContext => ({ tenant: "t", connectorId, customerId: "1", http: { signal: new AbortController().signal, allowPrivate: false } });
const notFound: LookupResult = { kind: "notFound" };

describe("Retry-After circuit", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(retryAfterSeconds("120")).toBe(120);
    expect(retryAfterSeconds(" 3 ")).toBe(3);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterSeconds("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30);
    expect(retryAfterSeconds("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds("soon")).toBeUndefined();
    expect(retryAfterSeconds(null)).toBeUndefined();
  });

  it("maps CRM statuses to reasons", () => {
    expect(crmStatusError(401).code).toBe("crm_auth");
    expect(crmStatusError(403).code).toBe("crm_auth");
    const limited = crmStatusError(429, new Headers({ "retry-after": "7" }));
    expect([limited.code, limited.retryAfterSeconds]).toEqual(["crm_rate_limited", 7]);
    expect(crmStatusError(503).code).toBe("crm_http_503");
    expect(crmStatusError(418).code).toBe("crm_http_418");
  });

  it("fails fast without calling until Retry-After has passed, for that connector only", async () => {
    let now = 1_000_000;
    const clock = () => now;
    let calls = 0;
    const limited = () => {
      calls++;
      return Promise.reject(new CrmError("crm_rate_limited", "429", 2));
    };
    const fine = () => {
      calls++;
      return Promise.resolve(notFound);
    };
    await expect(honourRetryAfter(ctx("a"), limited, clock)).rejects.toMatchObject({ code: "crm_rate_limited" });
    expect(calls).toBe(1);
    now += 1_500;
    await expect(honourRetryAfter(ctx("a"), fine, clock)).rejects.toMatchObject({ code: "crm_rate_limited" });
    expect(calls).toBe(1);
    await expect(honourRetryAfter(ctx("b"), fine, clock)).resolves.toEqual(notFound);
    expect(calls).toBe(2);
    now += 600;
    await expect(honourRetryAfter(ctx("a"), fine, clock)).resolves.toEqual(notFound);
    expect(calls).toBe(3);
  });

  it("other failures do not open it", async () => {
    const c = ctx("c");
    await expect(honourRetryAfter(c, () => Promise.reject(new CrmError("crm_http_500", "x")))).rejects.toMatchObject({ code: "crm_http_500" });
    await expect(honourRetryAfter(c, () => Promise.resolve(notFound))).resolves.toEqual(notFound);
  });
});
