import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countryCode, E164_PATTERN, normalizeCallerNumber } from "./phone.js";

const UNUSABLE = { ok: false, reason: "caller_number_unusable" };

// Valid numbers of a few plans, as E.164 and as the same plan's national significant number.
const plans = [
  { country: "ES", cc: "34", nsn: fc.stringMatching(/^[6789][0-9]{8}$/).filter((n) => !n.startsWith("70") && !n.startsWith("80") && !n.startsWith("90")), trunk: "" },
  { country: "GB", cc: "44", nsn: fc.stringMatching(/^7[4-9][0-9]{8}$/), trunk: "0" },
  { country: "AR", cc: "54", nsn: fc.stringMatching(/^11[2-9][0-9]{7}$/), trunk: "0" },
] as const;

/** The ways a PBX or a human writes one number: spaced, dashed, bracketed, with the international prefix. */
function spellings(cc: string, nsn: string, trunk: string) {
  const grouped = nsn.replace(/(\d{3})(?=\d)/g, "$1 ");
  return [`+${cc}${nsn}`, `+${cc} ${grouped}`, `+${cc}-${nsn.slice(0, 3)}-${nsn.slice(3)}`, `00${cc}${nsn}`, ` tel:+${cc}${nsn} `, `sip:+${cc}${nsn}@pbx.example;user=phone`, `(${trunk}${nsn.slice(0, 3)}) ${nsn.slice(3)}`, `${trunk}${nsn}`];
}

describe("normalizeCallerNumber", () => {
  it("every spelling of a valid number normalizes to the one E.164 form", () => {
    for (const p of plans) {
      fc.assert(
        fc.property(p.nsn, (nsn) => {
          const e164 = `+${p.cc}${nsn}`;
          const first = normalizeCallerNumber(e164, p.country);
          if (!first.ok) return; // not every generated digit string is an assigned range
          expect(first.e164).toBe(e164);
          for (const s of spellings(p.cc, nsn, p.trunk)) expect(normalizeCallerNumber(s, p.country)).toEqual({ ok: true, e164 });
          // Idempotent, and E.164 needs no default country.
          expect(normalizeCallerNumber(first.e164)).toEqual(first);
          expect(normalizeCallerNumber(first.e164, "US")).toEqual(first);
        }),
      );
    }
  });

  it("known examples", () => {
    expect(normalizeCallerNumber("911 23 45 67", "ES")).toEqual({ ok: true, e164: "+34911234567" });
    expect(normalizeCallerNumber("(0)20 7946 0018", "GB")).toEqual({ ok: true, e164: "+442079460018" });
    expect(normalizeCallerNumber("(212) 555-0123".replace("555-0123", "456-7890"), "US")).toEqual({ ok: true, e164: "+12124567890" });
  });

  it("withheld, empty, national without a country and invalid numbers are unusable", () => {
    for (const raw of ["", "   ", "anonymous", "Anonymous", "Restricted", "RESTRICTED", "withheld", "Private", "unknown", "Unavailable", "sip:anonymous@anonymous.invalid", "0", "123", "+0000000000", "+34 12", "911234567", "abc", "+1-800-FLOWERS", "1".repeat(80)]) {
      expect(normalizeCallerNumber(raw), raw).toEqual(UNUSABLE);
    }
    // A national number is usable only with a country to read it in.
    expect(normalizeCallerNumber("911234567").ok).toBe(false);
    expect(normalizeCallerNumber("911234567", "ES").ok).toBe(true);
    // An unknown country is ignored rather than trusted.
    expect(normalizeCallerNumber("911234567", "XX").ok).toBe(false);
  });

  it("never throws, and anything usable is E.164", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[+0-9 ()-]{0,20}$/)), fc.constantFrom(undefined, "ES", "US", "GB", "zz"), (raw, country) => {
        const r = normalizeCallerNumber(raw, country);
        if (r.ok) expect(r.e164).toMatch(E164_PATTERN);
        else expect(r).toEqual(UNUSABLE);
      }),
    );
  });

  it("country codes are ISO alpha-2 with a numbering plan", () => {
    expect(countryCode.safeParse("ES").success).toBe(true);
    for (const bad of ["es", "ESP", "XX", "", "E"]) expect(countryCode.safeParse(bad).success, bad).toBe(false);
  });
});
