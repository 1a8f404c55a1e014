import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { condition, type Condition } from "../../shared/rules.js";
import { applyRules, matches } from "./engine.js";

const record = {
  properties: { plan: "gold", balance: "120.5", since: "2021-03-04", tags: ["vip", "late"], active: true, nothing: null },
  Plan__c: "Bronze",
  count: 3,
};

const c = (x: unknown) => condition.parse(x);

describe("rules engine (SPEC 4)", () => {
  it("implements each operator", () => {
    const t = (x: unknown) => matches(c(x), record);
    expect(t({ path: "properties.plan", op: "eq", value: "gold" })).toBe(true);
    expect(t({ path: "count", op: "eq", value: "3" })).toBe(true);
    expect(t({ path: "properties.active", op: "eq", value: "true" })).toBe(true);
    expect(t({ path: "properties.plan", op: "ne", value: "gold" })).toBe(false);
    expect(t({ path: "missing", op: "ne", value: "gold" })).toBe(true);
    expect(t({ path: "properties.plan", op: "in", value: ["silver", "gold"] })).toBe(true);
    expect(t({ path: "properties.plan", op: "in", value: ["silver"] })).toBe(false);
    expect(t({ path: "properties.tags.0", op: "eq", value: "vip" })).toBe(true);
    expect(t({ path: "properties.plan", op: "exists" })).toBe(true);
    expect(t({ path: "properties.nothing", op: "exists" })).toBe(false);
    expect(t({ path: "properties.nothing", op: "exists", value: false })).toBe(true);
    expect(t({ path: "properties.balance", op: "gt", value: 100 })).toBe(true);
    expect(t({ path: "properties.balance", op: "gte", value: "120.5" })).toBe(true);
    expect(t({ path: "properties.balance", op: "lt", value: 100 })).toBe(false);
    expect(t({ path: "properties.since", op: "lte", value: "2022-01-01" })).toBe(true);
    expect(t({ path: "properties.plan", op: "gt", value: 5 })).toBe(false);
    expect(t({ path: "Plan__c", op: "matches", value: "^bro", flags: "i" })).toBe(true);
    expect(t({ path: "Plan__c", op: "matches", value: "^bro" })).toBe(false);
    expect(t({ path: "properties", op: "eq", value: "x" })).toBe(false);
  });

  it("combinators all / any / not", () => {
    const gold = { path: "properties.plan", op: "eq", value: "gold" };
    const bronze = { path: "Plan__c", op: "eq", value: "Bronze" };
    const no = { path: "count", op: "gt", value: 10 };
    expect(matches(c({ all: [gold, bronze] }), record)).toBe(true);
    expect(matches(c({ all: [gold, no] }), record)).toBe(false);
    expect(matches(c({ any: [no, bronze] }), record)).toBe(true);
    expect(matches(c({ not: { any: [no] } }), record)).toBe(true);
  });

  it("the first matching rule decides, then default", () => {
    const set = {
      rules: [
        { when: c({ path: "properties.plan", op: "eq", value: "gold" }), destination: "1,3" },
        { when: c({ path: "count", op: "gte", value: 0 }), destination: "1,4" },
      ],
      default: "true",
      notFound: "false",
    };
    expect(applyRules(set, record)).toEqual({ destination: "1,3", rule: 0 });
    expect(applyRules(set, { count: 1 })).toEqual({ destination: "1,4", rule: 1 });
    expect(applyRules(set, {})).toEqual({ destination: "true", rule: "default" });
  });

  it("refuses unsafe or malformed conditions at config time", () => {
    for (const bad of [
      { path: "a", op: "matches", value: "(a+)+$" },
      { path: "a", op: "matches", value: "([a-z]*)*" },
      { path: "a", op: "matches", value: "[" },
      { path: "a", op: "in", value: "x" },
      { path: "a", op: "eq" },
      { path: "a", op: "exists", value: "x" },
      { path: "a", op: "eq", value: 1, flags: "i" },
      { path: "", op: "eq", value: 1 },
      { path: "a..b", op: "eq", value: 1 },
      { path: "a", op: "eval", value: "1" },
      { all: [] },
    ]) {
      expect(condition.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("never throws and is deterministic on arbitrary records and paths", () => {
    const ops = fc.constantFrom("eq", "ne", "gt", "gte", "lt", "lte");
    const leaf = fc.record({ path: fc.stringMatching(/^[a-z0-9_]{1,5}(\.[a-z0-9_]{1,5}){0,2}$/), op: ops, value: fc.oneof(fc.string(), fc.integer(), fc.boolean()) });
    fc.assert(
      fc.property(fc.jsonValue(), leaf, (rec, cond) => {
        const parsed = condition.parse(cond) as Condition;
        const a = matches(parsed, rec);
        expect(matches(parsed, rec)).toBe(a);
        if (cond.op === "eq") expect(matches(condition.parse({ ...cond, op: "ne" }), rec)).toBe(!a);
      }),
    );
  });

  it("cannot reach the prototype chain", () => {
    expect(matches(c({ path: "__proto__.polluted", op: "exists" }), {})).toBe(false);
    expect(matches(c({ path: "constructor.name", op: "eq", value: "Object" }), {})).toBe(false);
  });
});
