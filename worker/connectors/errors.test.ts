import { describe, expect, it } from "vitest";
import { retryAfterMs } from "../quota/headers.js";
import { crmStatusError } from "./errors.js";

describe("CRM status reasons", () => {
  it("reads Retry-After as delta-seconds and HTTP dates (the one parser, quota/headers.ts)", () => {
    const retryAfter = (value: string | null, now?: number) => retryAfterMs(new Headers(value === null ? {} : { "retry-after": value }), now);
    expect(retryAfter("120")).toBe(120_000);
    expect(retryAfter(" 3 ")).toBe(3_000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(retryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(retryAfter("soon")).toBeUndefined();
    expect(retryAfter(null)).toBeUndefined();
    // …and a throttled reply's wait from it, in whole seconds.
    expect(crmStatusError(429, new Headers({ "retry-after": "120" })).retryAfterSeconds).toBe(120);
    expect(crmStatusError(429, new Headers({ "retry-after": "1.5" })).retryAfterSeconds).toBe(2);
  });

  it("maps CRM statuses to reasons", () => {
    expect(crmStatusError(401).code).toBe("crm_auth");
    expect(crmStatusError(403).code).toBe("crm_auth");
    const limited = crmStatusError(429, new Headers({ "retry-after": "7" }));
    expect([limited.code, limited.retryAfterSeconds]).toEqual(["crm_rate_limited", 7]);
    expect(crmStatusError(503).code).toBe("crm_http_503");
    expect(crmStatusError(418).code).toBe("crm_http_418");
  });

  it("knows each CRM's throttling reply that is not a plain 429", () => {
    // Salesforce: daily or concurrent API limit, HTTP 403 with a JSON array of errors.
    expect(crmStatusError(403, new Headers(), '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]').code).toBe("crm_rate_limited");
    // Zoho: credits or concurrency exhausted.
    expect(crmStatusError(400, new Headers(), '{"code":"LIMIT_EXCEEDED","details":{},"message":"API credits exhausted","status":"error"}').code).toBe("crm_rate_limited");
    expect(crmStatusError(429, new Headers(), '{"code":"TOO_MANY_REQUESTS","status":"error"}').code).toBe("crm_rate_limited");
    // Another 403 is still an auth refusal, another 400 still its status.
    expect(crmStatusError(403, new Headers(), '[{"errorCode":"INVALID_SESSION_ID"}]').code).toBe("crm_auth");
    expect(crmStatusError(400, new Headers(), '{"code":"INVALID_QUERY"}').code).toBe("crm_http_400");
  });

  it("takes the wait from the rate-limit headers when a throttling reply has no Retry-After", () => {
    const wait = (status: number, headers: Record<string, string>, body = "") => {
      const e = crmStatusError(status, new Headers(headers), body);
      return [e.code, e.retryAfterSeconds];
    };
    // HubSpot: no Retry-After, the second's allowance at zero.
    expect(wait(429, { "x-hubspot-ratelimit-secondly": "10", "x-hubspot-ratelimit-secondly-remaining": "0" })).toEqual(["crm_rate_limited", 1]);
    // Pipedrive: the window's reset in seconds.
    expect(wait(429, { "x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2" })).toEqual(["crm_rate_limited", 2]);
    // Retry-After wins over the headers (Freshdesk, Zendesk, Dataverse send both).
    expect(wait(429, { "retry-after": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2" })).toEqual(["crm_rate_limited", 30]);
    // Salesforce's daily allocation used up: its own header says so; a minute before looking again.
    const sf = '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]';
    expect(wait(403, { "sforce-limit-info": "api-usage=15000/15000" }, sf)).toEqual(["crm_rate_limited", 60]);
    // Nothing to go by (Salesforce's concurrency limit, Zoho): the caller's default pause applies.
    expect(wait(403, { "sforce-limit-info": "api-usage=120/15000" }, sf)).toEqual(["crm_rate_limited", undefined]);
    expect(wait(429, {}, '{"code":"TOO_MANY_REQUESTS","details":{},"message":"too many requests","status":"error"}')).toEqual(["crm_rate_limited", undefined]);
    // Headers at zero on a reply that is not a throttle do not make it one.
    expect(wait(401, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2" })).toEqual(["crm_auth", undefined]);
  });
});
