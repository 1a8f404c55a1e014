import { describe, expect, it } from "vitest";
import { phoneQuery } from "../../shared/phone.js";
import { sameNumberMatch } from "./phone-match.js";

const mx = phoneQuery("+525512345678");
const es = phoneQuery("+34912345678");
const phones = (r: unknown) => [(r as { phone?: unknown }).phone, (r as { mobile?: unknown }).mobile];

describe("sameNumberMatch", () => {
  it("keeps only records holding the caller's own number, however it was stored", () => {
    const us = { id: "us", phone: "+1 551-234-5678" };
    const home = { id: "mx", phone: null, mobile: "+52 55 1234 5678 ext. 12" };
    expect(sameNumberMatch([us, home], 2, mx, phones)).toEqual({ kind: "record", record: home, matches: 1 });
    expect(sameNumberMatch([us], 1, mx, phones)).toEqual({ kind: "notFound" });
    // A stored number without a country is read in the caller's, as the CRM's digit search did.
    const national = { id: "es", phone: "912 345 678" };
    expect(sameNumberMatch([national], 1, es, phones)).toEqual({ kind: "record", record: national, matches: 1 });
    expect(sameNumberMatch([{ phone: 5512345678 }, { phone: "n/a" }], 2, mx, phones)).toEqual({ kind: "notFound" });
    // " 869696601" would be +86 9696601 as a caller number; stored with a stray space it is the ES number.
    const spaced = { id: "es2", phone: " 869696601" };
    expect(sameNumberMatch([spaced], 1, phoneQuery("+34869696601"), phones)).toEqual({ kind: "record", record: spaced, matches: 1 });
  });

  it("records the CRM counted but did not send may be the caller's: never a unique match", () => {
    const us = { id: "us", phone: "+1 551-234-5678" };
    const home = { id: "mx", phone: "+525512345678" };
    expect(sameNumberMatch([home, us], 3, mx, phones)).toMatchObject({ kind: "record", record: home, matches: 2 });
    expect(sameNumberMatch([us, us], 3, mx, phones)).toMatchObject({ kind: "record", matches: 2 });
    expect(sameNumberMatch([home, { ...home, id: "mx2" }], 2, mx, phones)).toMatchObject({ matches: 2 });
  });
});
