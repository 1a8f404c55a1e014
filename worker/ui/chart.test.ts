import { describe, expect, it } from "vitest";
import { bucketize, countMinutes, percentile } from "./chart.js";

describe("percentile (nearest rank)", () => {
  it("picks the value at the rank", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe("bucketize", () => {
  it("counts outcomes and latency per time bucket, ignoring what is outside the window", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    const at = (minAgo: number) => new Date(now - minAgo * 60_000).toISOString();
    const buckets = bucketize(
      [
        { at: at(1), outcome: "success", ms: 10 },
        { at: at(2), outcome: "failure", ms: 30 },
        { at: at(59), outcome: "route", ms: 5 },
        { at: at(61), outcome: "success", ms: 999 },
        { at: new Date(now + 1000).toISOString(), outcome: "success", ms: 999 },
      ],
      now,
      3600_000,
      12,
    );
    expect(buckets).toHaveLength(12);
    expect(buckets[11]!.counts).toEqual({ success: 1, route: 0, failure: 1, invalid: 0 });
    expect(buckets[11]!.p50).toBe(10);
    expect(buckets[11]!.p99).toBe(30);
    expect(buckets[0]!.counts.route).toBe(1);
    expect(buckets.reduce((s, b) => s + b.counts.success + b.counts.route + b.counts.failure + b.counts.invalid, 0)).toBe(3);
    expect(buckets[5]!.p50).toBeNull();
  });
});

describe("countMinutes", () => {
  it("counts every call from per-minute totals, beyond the rows the log keeps, and keeps the latency lines", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    const minute = (minAgo: number) => Math.floor((now - minAgo * 60_000) / 60_000);
    const buckets = bucketize([{ at: new Date(now - 90_000).toISOString(), outcome: "success", ms: 10 }], now, 3600_000, 12);
    const counted = countMinutes(
      buckets,
      [
        { minute: minute(2), outcome: "success", n: 1500 },
        { minute: minute(2), outcome: "failure", n: 3 },
        { minute: minute(30), outcome: "route", n: 7 },
        { minute: minute(90), outcome: "success", n: 99 },
        { minute: minute(2), outcome: "bogus", n: 5 },
      ],
      now,
      3600_000,
    );
    expect(counted.at(-1)!.counts).toEqual({ success: 1500, route: 0, failure: 3, invalid: 0 });
    expect(counted.reduce((s, b) => s + b.counts.route, 0)).toBe(7);
    expect(counted.reduce((s, b) => s + b.counts.success, 0)).toBe(1500);
    expect(counted.at(-1)!.p50).toBe(10);
  });
});
