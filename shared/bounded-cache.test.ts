import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundedCache } from "./bounded-cache.js";

type Op = { op: "get" | "set" | "delete"; key: number; ttl: number | null } | { op: "tick"; ms: number };

describe("BoundedCache", () => {
  it("behaves as a model LRU with expiry, and never holds more than max", () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constantFrom("get" as const, "set" as const, "delete" as const), key: fc.integer({ min: 0, max: 12 }), ttl: fc.option(fc.integer({ min: 0, max: 50 })) }),
      fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.option(fc.integer({ min: 1, max: 60 })), fc.array(op, { maxLength: 80 }), (max, ttlMs, ops) => {
        let t = 0;
        const cache = new BoundedCache<number, number>({ max, ...(ttlMs === null ? {} : { ttlMs }), now: () => t });
        // The model: an array from least to most recently used.
        let model: Array<{ key: number; value: number; expires: number }> = [];
        ops.forEach((o, i) => {
          if (o.op === "tick") t += o.ms;
          else if (o.op === "set") {
            model = model.filter((e) => e.key !== o.key);
            if (model.length >= max) model.shift();
            model.push({ key: o.key, value: i, expires: t + (o.ttl ?? ttlMs ?? Infinity) });
            if (o.ttl === null) cache.set(o.key, i);
            else cache.set(o.key, i, o.ttl);
          } else if (o.op === "delete") {
            const had = model.some((e) => e.key === o.key);
            model = model.filter((e) => e.key !== o.key);
            expect(cache.delete(o.key)).toBe(had);
          } else {
            const e = model.find((x) => x.key === o.key);
            model = model.filter((x) => x.key !== o.key);
            const live = e && e.expires > t ? e : undefined;
            if (live) model.push(live);
            expect(cache.get(o.key)).toBe(live?.value);
          }
          expect(cache.size).toBe(model.length);
          expect(cache.size).toBeLessThanOrEqual(max);
        });
      }),
      { numRuns: 500 },
    );
  });

  it("keeps what is used and evicts what is not, one at a time", () => {
    const cache = new BoundedCache<string, number>({ max: 2 });
    cache.set("a", 1).set("b", 2);
    cache.get("a");
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, undefined, 3]);
  });

  it("refuses a size that is not a positive integer", () => {
    for (const max of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedCache({ max })).toThrow(RangeError);
  });
});
