import { describe, expect, it } from "vitest";
import { addressBucket } from "./limits.js";

describe("addressBucket", () => {
  it("counts an IPv6 client per /64, whatever the spelling, and IPv4 per address", () => {
    const bucket = addressBucket("2001:db8:1:2::1");
    for (const ip of ["2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:0DB8:0001:0002:0:0:0:9", "2001:db8:1:2::"]) expect(addressBucket(ip)).toBe(bucket);
    expect(bucket).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:3::1")).not.toBe(bucket);
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("203.0.113.9")).toBe("203.0.113.9");
    expect(addressBucket("::ffff:203.0.113.9")).toBe("::ffff:203.0.113.9");
  });
});
