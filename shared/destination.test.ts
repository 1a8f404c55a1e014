import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseContractReply } from "./contract.js";
import { decision, formatDestination, parseDestination } from "./destination.js";

describe("destination \"X,Y\"", () => {
  it("round-trips every valid destination, with spaces tolerated around the parts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.constantFrom("", " ", "  ", "\t"), (type, id, sp) => {
        expect(parseDestination(`${sp}${type}${sp},${sp}${id}${sp}`)).toEqual({ type, id });
        expect(parseDestination(formatDestination({ type, id }))).toEqual({ type, id });
      }),
    );
  });

  it("rejects anything else without throwing", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const d = parseDestination(s);
        if (d) expect(s.replace(/\s/g, "")).toBe(`${d.type},${d.id}`);
      }),
    );
    for (const bad of ["0,1", "13,1", "1,0", "1,-2", "1,2,3", "1;2", "1 ,2x", "a,b", "01,2", "1,2.5", "", ",", "1,"]) {
      expect(parseDestination(bad), bad).toBeNull();
    }
  });

  it("decision accepts true/false/X,Y and normalises, nothing else", () => {
    expect(decision.parse(" true ")).toBe("true");
    expect(decision.parse("3 , 7")).toBe("3,7");
    for (const bad of ["TRUE", "yes", "1", "13,1", ""]) expect(decision.safeParse(bad).success, bad).toBe(false);
  });
});

describe("CRM reply parsing (SPEC 2)", () => {
  it("never throws on arbitrary text and accepts only the contract", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const r = parseContractReply(text);
        if (r.ok) {
          expect(["ok", "fail"]).toContain(r.reply.status);
          expect(r.reply.destination).toMatch(/^(true|false|\d+,\d+)$/);
        }
      }),
    );
  });

  it("classifies the failure", () => {
    expect(parseContractReply('{"status":"ok","destination":"1,2"}')).toEqual({ ok: true, reply: { status: "ok", destination: "1,2" } });
    expect(parseContractReply("<html>")).toEqual({ ok: false, problem: "bad_json" });
    expect(parseContractReply('{"status":"ok","destination":"true","idContact":"123"}')).toEqual({ ok: true, reply: { status: "ok", destination: "true", idContact: "123" } });
    expect(parseContractReply('{"status":"ok","destination":"true","idContact":"Ann"}')).toEqual({ ok: true, reply: { status: "ok", destination: "true" } });
    expect(parseContractReply('{"status":"ok","destination":"true","idContact":5}')).toEqual({ ok: true, reply: { status: "ok", destination: "true" } });
    expect(parseContractReply('{"status":"ok","destination":1}')).toEqual({ ok: false, problem: "bad_shape" });
    expect(parseContractReply('{"status":"maybe","destination":"true"}')).toEqual({ ok: false, problem: "bad_shape" });
    expect(parseContractReply('{"status":"ok"}')).toEqual({ ok: false, problem: "bad_shape" });
    expect(parseContractReply(" ".repeat(70_000))).toEqual({ ok: false, problem: "too_large" });
  });
});
