import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseFreshdeskQuery, parseODataEq, parseSoqlEquality, parseZendeskQuery, parseZohoCriteria } from "../../test/support/fake-crms/query-syntax.js";
import { CrmError } from "./errors.js";
import { freshdeskQuery, odataString, soqlString, soslTerm, zendeskQuery, zohoCriteriaValue } from "./escape.js";

// Strings built mostly from the characters that matter to some query language, plus any unicode.
const SPECIAL = ["'", '"', "\\", "(", ")", ",", ":", " ", "\n", "\r", "\t", "\b", "\f", "\u0000", "%", "_", "*", "or", "OR", "eq", "and", "--", "LIMIT"];
const hostile = fc.oneof(
  fc.string({ unit: fc.constantFrom(...SPECIAL), maxLength: 30 }),
  fc.string({ unit: fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })), maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const digits = fc.stringMatching(/^[0-9]{1,30}$/);
const runs = { numRuns: 500 };

function refusedOr<T>(build: () => T, check: (v: T) => void) {
  let built: T;
  try {
    built = build();
  } catch (e) {
    expect(e).toBeInstanceOf(CrmError);
    expect((e as CrmError).code).toBe("invalid_query_value");
    return;
  }
  check(built);
}

describe("query escaping: no value can change the query around it", () => {
  it("SOSL search term: every reserved character escaped, so braces never close the FIND term", () => {
    fc.assert(
      fc.property(hostile, (v) =>
        refusedOr(
          () => soslTerm(v),
          (t) => {
            // Unescape pairwise: what remains must be the value, and no bare reserved character is left.
            let out = "";
            for (let i = 0; i < t.length; i++) {
              if (t[i] === "\\") out += t[++i] ?? "";
              else {
                expect("?&|!{}[]()^~*:\\\"'+-").not.toContain(t[i]);
                out += t[i];
              }
            }
            expect(out).toBe(v);
          },
        ),
      ),
      runs,
    );
    expect(soslTerm("911234567")).toBe("911234567");
  });

  it("SOQL string literal", () => {
    fc.assert(
      fc.property(hostile, (v) => {
        const parsed = parseSoqlEquality(`SELECT Id, Plan__c FROM Contact WHERE Customer_Number__c = ${soqlString(v)} LIMIT 2`);
        expect(parsed).toEqual({ ok: true, value: { fields: ["Id", "Plan__c"], sobject: "Contact", field: "Customer_Number__c", value: v } });
      }),
      runs,
    );
  });

  it("OData string literal", () => {
    fc.assert(
      fc.property(hostile, (v) => {
        expect(parseODataEq(`new_customerno eq ${odataString(v)}`)).toEqual({ ok: true, value: { field: "new_customerno", value: v } });
      }),
      runs,
    );
  });

  it("Zoho criteria value", () => {
    fc.assert(
      fc.property(hostile, (v) => {
        expect(parseZohoCriteria(`(Customer_No:equals:${zohoCriteriaValue(v)})`)).toEqual({ ok: true, value: { field: "Customer_No", value: v } });
      }),
      runs,
    );
  });

  it.each([
    { name: "Freshdesk query: one clause with the value, or refused", build: freshdeskQuery, parse: parseFreshdeskQuery },
    { name: "Zendesk search syntax: one phrase with the value, or refused", build: zendeskQuery, parse: parseZendeskQuery },
  ])("$name", ({ build, parse }) => {
    fc.assert(
      fc.property(hostile, (v) => {
        refusedOr(
          () => build("customer_no", v),
          (q) => expect(parse(q)).toEqual({ ok: true, value: { field: "customer_no", value: v } }),
        );
      }),
      runs,
    );
  });

  it("customer ids (digits) are never refused and pass unchanged", () => {
    fc.assert(
      fc.property(digits, (id) => {
        expect(soqlString(id)).toBe(`'${id}'`);
        expect(odataString(id)).toBe(`'${id}'`);
        expect(zohoCriteriaValue(id)).toBe(id);
        expect(freshdeskQuery("f", id)).toBe(`"f:'${id}'"`);
        expect(zendeskQuery("f", id)).toBe(`f:"${id}"`);
      }),
    );
  });

  it("known attacks", () => {
    expect(soqlString("x' OR Name != '")).toBe("'x\\' OR Name != \\''");
    expect(soqlString("a\\")).toBe("'a\\\\'");
    expect(odataString("a' or 1 eq 1 or 'b")).toBe("'a'' or 1 eq 1 or ''b'");
    expect(zohoCriteriaValue("1)or(Email:starts_with:a")).toBe("1\\)or\\(Email:starts_with:a");
    expect(() => freshdeskQuery("f", "1' OR id:2 OR '")).toThrow(CrmError);
    expect(() => zendeskQuery("f", '1" role:admin "')).toThrow(CrmError);
  });
});
