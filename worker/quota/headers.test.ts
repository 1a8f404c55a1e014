import { describe, expect, it } from "vitest";
import { pauseFromHeaders } from "./headers.js";

const h = (o: Record<string, string>) => new Headers(o);
const NOW = Date.parse("2026-12-01T12:00:00Z");

describe("pauseFromHeaders", () => {
  it("pauses on each CRM's 'none left' header, until its reset", () => {
    expect(pauseFromHeaders(h({ "X-HubSpot-RateLimit-Secondly-Remaining": "0" }), NOW)).toBe(1000);
    expect(pauseFromHeaders(h({ "X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000" }), NOW)).toBe(10_000);
    expect(pauseFromHeaders(h({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2" }), NOW)).toBe(2000);
    expect(pauseFromHeaders(h({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(NOW / 1000 + 3) }), NOW)).toBe(3000);
    expect(pauseFromHeaders(h({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(NOW + 4000) }), NOW)).toBe(4000);
    expect(pauseFromHeaders(h({ "X-Rate-Limit-Remaining": "0", "ratelimit-reset": "41" }), NOW)).toBe(41_000);
    expect(pauseFromHeaders(h({ "X-RateLimit-Remaining": "0", "Retry-After": "7" }), NOW)).toBe(7000);
    expect(pauseFromHeaders(h({ "Sforce-Limit-Info": "api-usage=15000/15000" }), NOW)).toBe(60_000);
    expect(pauseFromHeaders(h({ "x-ms-ratelimit-burst-remaining-xrm-requests": "0" }), NOW)).toBe(5000);
  });

  it("leaves a connector with quota left alone", () => {
    expect(pauseFromHeaders(h({ "X-HubSpot-RateLimit-Secondly-Remaining": "3" }), NOW)).toBeUndefined();
    expect(pauseFromHeaders(h({ "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "2" }), NOW)).toBeUndefined();
    expect(pauseFromHeaders(h({ "Sforce-Limit-Info": "api-usage=18/15000" }), NOW)).toBeUndefined();
    expect(pauseFromHeaders(h({ "X-RateLimit-Remaining": "zero" }), NOW)).toBeUndefined();
    expect(pauseFromHeaders(h({}), NOW)).toBeUndefined();
  });
});
