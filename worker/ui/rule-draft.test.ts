import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rest } from "../connectors/rest.js";
import { MAX_CONDITION_DEPTH, rule, type Condition } from "../../shared/rules.js";
import { configToFields, fieldsToConfig, formFields } from "./connector-fields.js";
import { applyAction, conditionToDraft, decisionToDraft, rulesFromFields, rulesToFields, type Fields } from "./rule-draft.js";

const segment = fc.stringMatching(/^[^.\s]{1,8}$/);
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join("."));
const scalar = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const comparison: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ path, op: fc.constantFrom("eq", "ne", "gt", "gte", "lt", "lte" as const), value: scalar }),
  fc.record({ path, op: fc.constant("in" as const), value: fc.array(scalar, { maxLength: 4 }) }),
  fc.record({ path, op: fc.constant("exists" as const), value: fc.boolean() }, { requiredKeys: ["path", "op"] }),
  fc.record({ path, op: fc.constant("matches" as const), value: fc.constantFrom("^gold$", "a|b", "[0-9]+", "x\ny"), flags: fc.constant("i" as const) }, { requiredKeys: ["path", "op", "value"] }),
);
const condition = (depth: number): fc.Arbitrary<Condition> =>
  depth === 0
    ? comparison
    : fc.oneof(
        { weight: 3, arbitrary: comparison },
        { weight: 1, arbitrary: fc.array(condition(depth - 1), { minLength: 1, maxLength: 3 }).map((all) => ({ all })) },
        { weight: 1, arbitrary: fc.array(condition(depth - 1), { minLength: 1, maxLength: 3 }).map((any) => ({ any })) },
        { weight: 1, arbitrary: condition(depth - 1).map((not) => ({ not })) },
      );
const decision = fc.oneof(fc.constantFrom("true", "false", " 3 , 7 "), fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 99999 })).map(([t, i]) => `${t},${i}`));
const ruleSet = fc.record({
  rules: fc.array(fc.record({ when: condition(MAX_CONDITION_DEPTH), destination: decision }), { maxLength: 4 }),
  default: decision,
  notFound: decision,
});

/** What a browser sends: every field through application/x-www-form-urlencoded. */
const submitted = (f: Fields): Fields => Object.fromEntries(new URLSearchParams(new URLSearchParams(f).toString()));

describe("rule builder", () => {
  const fields = formFields(rest.schema);
  const base = { kind: "rest", url: "https://crm.example/{idContact}" };

  it("round-trips every valid rule set exactly: API JSON → form fields → API JSON", () => {
    fc.assert(
      fc.property(ruleSet, (raw) => {
        const parsed = rest.schema.safeParse({ ...base, ...raw });
        fc.pre(parsed.success);
        const api = parsed.data as { kind: string; rules: unknown; default: string; notFound: string };
        const form = submitted(configToFields(fields, api));
        const back: Record<string, unknown> = { kind: "rest", ...fieldsToConfig(fields, form, { stored: null, errors: {}, badJson: "bad" }) };
        // The rules exactly as the API holds them, before any parsing; the rest once the schema fills its defaults.
        expect({ rules: back.rules, default: back.default, notFound: back.notFound }).toEqual({ rules: api.rules, default: api.default, notFound: api.notFound });
        expect(rest.schema.parse(back)).toEqual(api);
      }),
      { numRuns: 300 },
    );
  });

  it("moves, adds and removes rows and conditions the way its buttons say", () => {
    const rules = [
      { when: conditionToDraft({ all: [{ path: "a", op: "eq", value: 1 }, { path: "b", op: "exists" }] }), destination: decisionToDraft("1,2") },
      { when: conditionToDraft({ path: "c", op: "eq", value: "x" }), destination: decisionToDraft("false") },
    ];
    const f = rulesToFields(rules);
    const back = (r: typeof rules) => rulesFromFields(submitted(rulesToFields(r)));
    expect(back(applyAction(rules, "down:rules.0")).map((r) => r.destination.kind)).toEqual(["false", "route"]);
    expect(back(applyAction(rules, "up:rules.1"))[0]!.when).toMatchObject({ t: "cmp", path: "c" });
    const swapped = back(applyAction(rules, "up:rules.0.when.1"))[0]!.when;
    expect(swapped.t === "all" && swapped.children.map((c) => (c.t === "cmp" ? c.path : c.t))).toEqual(["b", "a"]);
    const added = back(applyAction(rules, "add:rules.0.when:any"))[0]!.when;
    expect(added.t === "all" && added.children.map((c) => c.t)).toEqual(["cmp", "cmp", "any"]);
    expect(back(applyAction(rules, "del:rules.0"))).toHaveLength(1);
    expect(back(applyAction(rules, "add-rule"))).toHaveLength(3);
    // Nonsense names nothing: the rules are unchanged.
    expect(rulesToFields(applyAction(rules, "up:rules.9.when.3"))).toEqual(f);
  });

  it("never nests groups past the schema's depth limit", () => {
    let when: Condition = { path: "a", op: "exists" };
    for (let i = 0; i < MAX_CONDITION_DEPTH + 2; i++) when = { not: when };
    const f = rulesToFields([{ when: conditionToDraft(when), destination: decisionToDraft("true") }]);
    const back = rulesFromFields(f)[0]!;
    let depth = 0;
    for (let c = back.when; c.t === "not"; c = c.child) depth++;
    expect(depth).toBe(MAX_CONDITION_DEPTH);
    expect(rule.safeParse({ when: { not: { not: { not: { not: { not: { path: "a", op: "exists" } } } } } }, destination: "true" }).success).toBe(false);
  });
});
