import fc from "fast-check";
import examples from "libphonenumber-js/examples.mobile.json";
import { getCountries, parsePhoneNumberFromString } from "libphonenumber-js/min";
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

  it("00 and a country code: read as international only where the default country cannot read it as another number", () => {
    // Found by the trunk-forms property below: BR dials abroad with 00 + a carrier code, so "00 22 46…" is carrier 22 calling Sweden.
    expect(parsePhoneNumberFromString("00224601123456", "BR")?.number).toBe("+461123456");
    expect(normalizeCallerNumber("00224601123456", "BR")).toEqual(UNUSABLE);
    expect(normalizeCallerNumber("00224601123456", "ES")).toEqual({ ok: true, e164: "+224601123456" });
    expect(normalizeCallerNumber("00 34 911 23 45 67", "US")).toEqual({ ok: true, e164: "+34911234567" });
    expect(normalizeCallerNumber("0034911234567")).toEqual({ ok: true, e164: "+34911234567" });
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

  it("a + that form decoding turned into a space (Asterisk's CURL() posts it unencoded) is read back when that is unambiguous", () => {
    const lostPlus = (e164: string) => new URLSearchParams(`callerNumber=${e164}`).get("callerNumber")!;
    expect(lostPlus("+5491155551234")).toBe(" 5491155551234");
    // A foreign caller: no national reading in the node's country, or none at all without one.
    for (const country of [undefined, "ES", "US", "GB", "AR"]) {
      expect(normalizeCallerNumber(lostPlus("+5491155551234"), country), String(country)).toEqual({ ok: true, e164: "+5491155551234" });
      expect(normalizeCallerNumber(lostPlus("+54+9+11+5555-1234"), country), String(country)).toEqual({ ok: true, e164: "+5491155551234" });
    }
    // A caller of the node's own country: both readings are the same number.
    expect(normalizeCallerNumber(lostPlus("+34911234567"), "ES")).toEqual({ ok: true, e164: "+34911234567" });
    expect(normalizeCallerNumber(lostPlus("+12124567890"), "US")).toEqual({ ok: true, e164: "+12124567890" });
    // A national number with a stray space before it is still that national number.
    expect(normalizeCallerNumber(" 911234567", "ES")).toEqual({ ok: true, e164: "+34911234567" });
    // Two different valid numbers: +86 9696601 (CN) or +34 869 69 66 01; +32 38968479 (BE) or +1 323 896 8479. Never a guess.
    expect(normalizeCallerNumber(" 869696601", "ES")).toEqual(UNUSABLE);
    expect(normalizeCallerNumber(" 3238968479", "US")).toEqual(UNUSABLE);
    // Sent with its + (JSON, or a form that encodes it as %2B), the same digits are not ambiguous.
    expect(normalizeCallerNumber("+869696601", "ES")).toEqual({ ok: true, e164: "+869696601" });
    expect(normalizeCallerNumber("869696601", "ES")).toEqual({ ok: true, e164: "+34869696601" });
  });

  it("a SIP name-addr (what CALLERID(all) or a P-Asserted-Identity header hold) is read for its URI's number", () => {
    for (const raw of ["<+34911234567>", "<sip:+34911234567@carrier.example;user=phone>", '"Juan Pérez" <sip:+34911234567@carrier.example>', "Juan <tel:+34-911-23-45-67>"]) {
      expect(normalizeCallerNumber(raw), raw).toEqual({ ok: true, e164: "+34911234567" });
    }
    for (const raw of ["Anonymous <sip:anonymous@anonymous.invalid>", '"+34911234567" <sip:anonymous@anonymous.invalid>', "<>", "<<+34911234567>>"]) {
      expect(normalizeCallerNumber(raw), raw).toEqual(UNUSABLE);
    }
  });

  /** Every country's example mobile number as libphonenumber's `min` metadata reads it: valid numbers of every plan. */
  const everyPlan = getCountries()
    .map((country) => ({ country, n: parsePhoneNumberFromString((examples as Record<string, string>)[country] ?? "", country) }))
    .filter((x) => x.n?.isValid())
    .map(({ country, n }) => ({ country, e164: n!.number, nsn: n!.nationalNumber as string, cc: n!.countryCallingCode as string }));

  const TRUNK_0 = new Set(["GB", "AR", "DE", "FR", "AU", "JP", "CN", "IN", "NZ", "TR"]);

  it("whatever form a trunk hands a valid number over in, the answer is that number or unusable, never another number", () => {
    expect(everyPlan.length).toBeGreaterThan(200);
    const grouped = (s: string) => s.replace(/(\d{3})(?=\d)/g, "$1 ");
    const wrappers: Array<(n: (typeof everyPlan)[number]) => string> = [
      (n) => n.e164,
      (n) => ` ${n.e164.slice(1)}`, // the lost +
      (n) => ` ${n.cc} ${grouped(n.nsn)}`,
      (n) => `00${n.cc}${n.nsn}`,
      (n) => `tel:+${n.cc}-${n.nsn}`,
      (n) => `sip:${n.e164}@carrier.example;user=phone`,
      (n) => `<sip:${n.e164}@carrier.example>`,
      (n) => `"${n.nsn}" <${n.e164}>`,
      (n) => `${n.e164};ext=123`,
      (n) => `+${n.cc} (${n.nsn.slice(0, 2)}) ${n.nsn.slice(2)}`,
      (n) => n.nsn, // national: right only in its own country
      // National with the trunk prefix, in plans whose trunk prefix is 0 (elsewhere "0…" is another number).
      (n) => (TRUNK_0.has(n.country) ? `0${n.nsn}` : n.nsn),
    ];
    const someCountry = fc.constantFrom(undefined, "ES", "US", "GB", "AR", "DE", "FR", "MX", "BR", "IN", "CN", "RU");
    fc.assert(
      fc.property(fc.constantFrom(...everyPlan), fc.nat(wrappers.length - 1), someCountry, fc.boolean(), (n, w, other, own) => {
        const raw = wrappers[w]!(n);
        const national = w >= wrappers.length - 2;
        // A national spelling read in a foreign country is a different, foreign number: not what this checks.
        const country = national || own ? n.country : other;
        const r = normalizeCallerNumber(raw, country);
        if (r.ok) expect(r.e164, `${JSON.stringify(raw)} in ${country}`).toBe(n.e164);
      }),
      { numRuns: 3000 },
    );
    // E.164 and URIs around it need no country at all.
    for (const n of everyPlan) expect(normalizeCallerNumber(`<sip:${n.e164}@x>`), n.e164).toEqual({ ok: true, e164: n.e164 });
  });

  it("trunk noise never throws and is never a number: withheld words, letters, non-ASCII digits, too short, too long", () => {
    const noise = fc.oneof(
      fc.constantFrom("anonymous", "Anonymous", "ANONYMOUS", "restricted", "unavailable", "unknown", "private", "asterisk", "withheld", "0", "", " ", "1", "00", "+", "sip:anonymous@anonymous.invalid", "tel:", "<>"),
      fc.stringMatching(/^[+]?[0-9]{1,3}$/),
      fc.stringMatching(/^[+]?[0-9]{18,64}$/),
      // Arabic-Indic, Extended Arabic-Indic, full-width, Devanagari digits: readable to a human, not to a trunk or a CRM search.
      fc.array(fc.constantFrom(..."٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９०१२३४५६७८९"), { minLength: 7, maxLength: 15 }).map((d) => `+${d.join("")}`),
      fc.tuple(fc.constantFrom("+34911234567", "911234567"), fc.stringMatching(/^[a-zA-Z#*]{1,4}$/)).map(([n, s]) => n + s),
    );
    const wrap = fc.constantFrom((s: string) => s, (s: string) => ` ${s} `, (s: string) => `tel:${s}`, (s: string) => `sip:${s}@h`, (s: string) => `<${s}>`, (s: string) => `"x" <sip:${s}@h>`);
    fc.assert(
      fc.property(noise, wrap, fc.constantFrom(undefined, "ES", "US", "AR", "zz"), (raw, w, country) => {
        expect(normalizeCallerNumber(w(raw), country), JSON.stringify(w(raw))).toEqual(UNUSABLE);
      }),
      { numRuns: 2000 },
    );
  });
});

