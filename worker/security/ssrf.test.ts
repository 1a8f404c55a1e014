import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { urlRefusal } from "./ssrf.js";

function expectAllRefused(urls: string[]): void {
  for (const u of urls) expect(urlRefusal(u, false), u).not.toBeNull();
}

describe("connector URL rules", () => {
  it("accepts public https URLs", () => {
    for (const u of [
      "https://api.hubapi.com/crm",
      "https://crm.example.com:8443/x?y=1",
      "https://8.8.8.8/",
      "https://[2001:4860::8888]/",
      "https://[::ffff:8.8.8.8]/",
      "https://[64:ff9b::808:808]/",
      "https://[2002:808:808::1]/",
      "https://acme.crm4.dynamics.com/",
      "https://xn--bcher-kva.example/",
    ]) {
      expect(urlRefusal(u, false), u).toBeNull();
    }
  });
  it("refuses http, private, loopback and link-local hosts in every spelling", () => {
    expectAllRefused([
      "http://crm.example.com/",
      "https://127.0.0.1/",
      "https://127.1/",
      "https://2130706433/",
      "https://0x7f000001/",
      "https://0177.0.0.1/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://0.0.0.0/",
      "https://localhost/",
      "https://api.localhost/",
      "https://printer.local/",
      "https://metadata.google.internal/",
      "https://[::1]/",
      "https://[::]/",
      "https://[fd00::1]/",
      "https://[fe80::1]/",
      "https://[fec0::1]/",
      "https://[ff02::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:a9fe:a9fe]/",
      // The IPv4-compatible forms of issue 9.5.
      "https://[::7f00:1]/",
      "https://[::127.0.0.1]/",
      "https://[::a9fe:a9fe]/",
      "https://[64:ff9b::127.0.0.1]/",
      "https://[64:ff9b:1::a00:1]/",
      "https://[2002:7f00:1::]/",
      "https://[2001:0:a9fe:a9fe::]/",
      "https://[2001:db8::1]/",
      "https://user:pw@example.com/",
      "ftp://example.com/",
      "not a url",
    ]);
  });
  it("refuses names that cannot come from public DNS (what /etc/hosts or a LAN resolver would answer)", () => {
    expectAllRefused([
      "https://localhost-alias/",
      "https://crm/",
      "https://LOCALHOST./",
      "https://a.b.localhost/",
      "https://crm.lan/",
      "https://crm.home.arpa/",
      "https://1.0.0.127.in-addr.arpa/",
      "https://crm.corp/",
      "https://crm.localdomain/",
      "https://crm.test/",
      "https://crm.123/",
    ]);
  });
  it("ALLOW_PRIVATE_CRM_URLS lets local development reach http and loopback, still only http(s)", () => {
    expect(urlRefusal("http://127.0.0.1:8787/x", true)).toBeNull();
    expect(urlRefusal("http://localhost-alias:8787/x", true)).toBeNull();
    expect(urlRefusal("file:///etc/passwd", true)).not.toBeNull();
  });
});

// Every IPv4 range that is not a public host, as [first octets, prefix length].
const PRIVATE_V4: Array<[number[], number]> = [
  [[0], 8],
  [[10], 8],
  [[127], 8],
  [[100, 64], 10],
  [[169, 254], 16],
  [[172, 16], 12],
  [[192, 168], 16],
  [[198, 18], 15],
  [[224], 4],
  [[240], 4],
];

const privateV4 = fc
  .tuple(fc.constantFrom(...PRIVATE_V4), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([[prefix, bits], random]) => {
    const base = prefix.reduce((n, o, i) => n + o * 2 ** (24 - 8 * i), 0);
    const host = random % 2 ** (32 - bits);
    return (base + host) >>> 0;
  });

const hex = (n: number) => n.toString(16);
const hi = (v4: number) => v4 >>> 16;
const lo = (v4: number) => v4 & 0xffff;
const dotted = (v4: number) => [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join(".");

/** Each IPv6 form that carries an IPv4 address, in the spellings a hostile admin would try. */
const EMBEDDINGS: Record<string, (v4: number, r: number) => string> = {
  "mapped hex": (v) => `::ffff:${hex(hi(v))}:${hex(lo(v))}`,
  "mapped dotted": (v) => `::ffff:${dotted(v)}`,
  "mapped long": (v) => `0:0:0:0:0:ffff:${dotted(v)}`,
  translated: (v) => `::ffff:0:${dotted(v)}`,
  "compatible hex": (v) => `::${hex(hi(v))}:${hex(lo(v))}`,
  "compatible dotted": (v) => `::${dotted(v)}`,
  "nat64 well-known": (v) => `64:ff9b::${dotted(v)}`,
  "nat64 local-use": (v, r) => `64:ff9b:1:${hex(r & 0xffff)}::${hex(hi(v))}:${hex(lo(v))}`,
  "6to4": (v, r) => `2002:${hex(hi(v))}:${hex(lo(v))}:${hex(r & 0xffff)}::1`,
  "teredo server": (v, r) => `2001:0:${hex(hi(v))}:${hex(lo(v))}:0:${hex(r & 0xffff)}:1234:5678`,
  "teredo client": (v) => `2001:0:808:808:8000:ffff:${hex(hi(v) ^ 0xffff)}:${hex(lo(v) ^ 0xffff)}`,
};

describe("IPv6 forms that embed a private IPv4 (property)", () => {
  for (const [name, embed] of Object.entries(EMBEDDINGS)) {
    it(`refuses ${name}`, () => {
      fc.assert(
        fc.property(privateV4, fc.integer({ min: 0, max: 0xffff }), (v4, r) => {
          const url = `https://[${embed(v4, r)}]/api`;
          expect(urlRefusal(url, false), url).not.toBeNull();
        }),
        { numRuns: 300 },
      );
    });
  }

  const inPrefix = (first: number, mask: number) =>
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 })).map(([r, rest]) => [((first & mask) | (r & ~mask & 0xffff)) >>> 0, ...rest].map(hex).join(":"));

  for (const [name, arb] of [
    ["ULA fc00::/7", inPrefix(0xfc00, 0xfe00)],
    ["link-local fe80::/10", inPrefix(0xfe80, 0xffc0)],
    ["site-local fec0::/10", inPrefix(0xfec0, 0xffc0)],
    ["multicast ff00::/8", inPrefix(0xff00, 0xff00)],
    // IANA special-purpose ranges that are not globally reachable, added to the registry after 2001:db8::/32.
    ["SRv6 SIDs 5f00::/16", inPrefix(0x5f00, 0xffff)],
    ["documentation 3fff::/20", fc.tuple(fc.integer({ min: 0, max: 0xfff }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 6, maxLength: 6 })).map(([g1, rest]) => ["3fff", hex(g1), ...rest.map(hex)].join(":"))],
    ["ORCHID 2001:10::/28", fc.tuple(fc.integer({ min: 0x10, max: 0x1f }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 6, maxLength: 6 })).map(([g1, rest]) => ["2001", hex(g1), ...rest.map(hex)].join(":"))],
    ["benchmarking 2001:2::/48", fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 5, maxLength: 5 }).map((rest) => ["2001", "2", "0", ...rest.map(hex)].join(":"))],
  ] as const) {
    it(`refuses every ${name} address`, () => {
      fc.assert(
        fc.property(arb, (a) => {
          expect(urlRefusal(`https://[${a}]/`, false), a).not.toBeNull();
        }),
        { numRuns: 300 },
      );
    });
  }

  it("the ranges beside those stay public: 2001:20::/28 (ORCHIDv2), 2001:4860::, 3fff:1000::, 5f01::", () => {
    for (const a of ["2001:20::1", "2001:4860::8888", "3fff:1000::1", "5f01::1", "2001:3::1"]) expect(urlRefusal(`https://[${a}]/`, false), a).toBeNull();
  });

  it("still accepts the same forms around a public IPv4 (the filter is not just 'refuse all IPv6')", () => {
    for (const v4 of [0x08080808, 0x01010101, 0x5db8d822]) {
      for (const name of ["mapped hex", "mapped dotted", "nat64 well-known", "6to4"]) {
        const url = `https://[${EMBEDDINGS[name]!(v4, 1)}]/`;
        expect(urlRefusal(url, false), url).toBeNull();
      }
    }
  });
});
