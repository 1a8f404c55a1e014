import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { condition, MAX_PATTERN_LENGTH, MAX_RULE_NODES, MAX_RULES_PROGRAM, ruleSet, type Condition } from "../../shared/rules.js";
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
      { path: "a", op: "matches", value: "[" },
      { path: "a", op: "matches", value: "x".repeat(MAX_PATTERN_LENGTH + 1) },
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

const rules = z.object(ruleSet);
// The condition schema is a union (comparison or all/any/not): its issues sit inside the union's.
const flatIssues = (issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] =>
  issues.flatMap((i) => (i.code === "invalid_union" ? [i, ...i.errors.flatMap(flatIssues)] : [i]));
const matching = (value: string, flags?: "i") => ({ path: "a", op: "matches", value, ...(flags ? { flags } : {}) });

describe("matches runs on RE2: linear time, refused at save time when RE2 cannot run it", () => {
  it("refuses what RE2 cannot run, saying why, on the pattern's own field", () => {
    for (const [value, why] of [
      ["^(1)\\1*2$", "\\1"],
      ["(?=1)1", "(?="],
      ["(?!1)1", "(?!"],
      ["(?<=B)-1", "(?<="],
      ["1++2", "++"],
      ["\\u0041", "\\u"],
      ["(\\d{100}){100}", "too large"],
      ["\\d{101}", "{101} is over 100"],
    ] as const) {
      const r = condition.safeParse(matching(value));
      expect(r.success, value).toBe(false);
      const issue = flatIssues(r.error!.issues).find((i) => i.path.join(".") === "value");
      expect(issue?.message, value).toContain("RE2");
      expect(issue?.message, value).toContain(why);
    }
  });

  it("accepts the patterns that backtracked, and answers them on long inputs", () => {
    const long = (s: string) => ({ a: s.repeat(1000 / s.length) });
    for (const [value, input, want] of [
      ["^B-(1|1)*2$", "B-" + "1".repeat(998), false],
      ["^B-((1+))+2$", "B-" + "1".repeat(997) + "2", true],
      ["\\d*\\d*\\d*\\d*\\d*x", "1".repeat(1000), false],
      ["(?:1|11)+2", "1".repeat(1000), false],
      ["(a|a)*b", "a".repeat(1000), false],
      ["(a+)+$", "a".repeat(999) + "!", false],
      ["(.*)*x", "y".repeat(999) + "x", true],
      ["^(\\w+\\s?)*$", "a".repeat(999) + "!", false],
    ] as const) {
      const parsed = condition.parse(matching(value));
      expect(matches(parsed, { a: input }), value).toBe(want);
      expect(matches(parsed, long("1a")), value).toBe(matches(parsed, long("1a")));
    }
  });

  it("a stored pattern from before RE2 that RE2 refuses never matches, and does not throw", () => {
    const old = { path: "a", op: "matches", value: "^(?=1)1" } as Condition;
    expect(matches(old, { a: "1" })).toBe(false);
    expect(matches({ not: old }, { a: "1" })).toBe(true);
  });

  it("reads at most 1000 characters of a field, whatever the operator", () => {
    const rec = { a: "1".repeat(1000) + "x" + "1".repeat(5000) };
    expect(matches(c(matching("x")), rec)).toBe(false);
    expect(matches(c(matching("^1+$")), rec)).toBe(true);
    expect(matches(c({ path: "a", op: "eq", value: "1".repeat(500) }), rec)).toBe(false);
    expect(matches(c({ path: "a", op: "gt", value: "1".repeat(500) }), rec)).toBe(true);
  });

  it("caps what one connector's rules may cost: conditions and compiled patterns", () => {
    const leaves = (n: number, leaf: unknown) => Array.from({ length: n }, () => leaf);
    const eq = { path: "a", op: "eq", value: 1 };
    const ok = Array.from({ length: MAX_RULE_NODES / 50 }, () => ({ when: { any: leaves(49, eq) }, destination: "true" }));
    expect(rules.safeParse({ rules: ok }).success).toBe(true);
    const tooMany = [...ok, { when: eq, destination: "true" }];
    const r = rules.safeParse({ rules: tooMany });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(["rules"]);
    expect(r.error!.issues[0]!.message).toContain(`at most ${MAX_RULE_NODES}`);
    // Each within a pattern's caps, too many together: refused from their text, before compiling.
    const big = matching("\\d{90}");
    const p = rules.safeParse({ rules: [{ when: { all: leaves(5, big) }, destination: "true" }] });
    expect(p.success).toBe(false);
    expect(p.error!.issues[0]!.message).toContain(`> ${MAX_RULES_PROGRAM}`);
  });

  it("never throws on any pattern text: it is accepted or refused with a message", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.boolean(), fc.jsonValue(), (value, i, rec) => {
        const r = condition.safeParse(matching(value, i ? "i" : undefined));
        if (r.success) matches(r.data, { a: rec });
        else expect(r.error.issues.length).toBeGreaterThan(0);
      }),
    );
  });

  it("answers as JavaScript's RegExp did on the patterns both engines take", () => {
    const atom = fc.constantFrom("a", "b", "1", " ", "-", ".", "\\d", "[ab]", "[^a]", "(a|b)", "(?:ab|1)", "^", "$");
    const quant = fc.constantFrom("", "", "*", "+", "?", "{2}", "{1,3}", "*?");
    const pattern = fc.array(fc.tuple(atom, quant).map(([a, q]) => (a === "^" || a === "$" ? a : a + q)), { minLength: 1, maxLength: 6 }).map((xs) => xs.join(""));
    const text = fc.string({ unit: fc.constantFrom("a", "b", "A", "1", " ", "-"), maxLength: 20 });
    fc.assert(
      fc.property(pattern, fc.boolean(), text, (value, i, input) => {
        const flags = i ? "i" : undefined;
        const parsed = condition.parse(matching(value, flags));
        expect(matches(parsed, { a: input }), `${value} /${flags ?? ""} ${JSON.stringify(input)}`).toBe(new RegExp(value, flags ?? "").test(input));
      }),
      { numRuns: 500 },
    );
  });
});
