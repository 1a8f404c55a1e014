import { z } from "zod";
import { decision } from "./destination.js";

export const ruleOp = z.enum(["eq", "ne", "in", "exists", "gt", "gte", "lt", "lte", "matches"]);
export type RuleOp = z.infer<typeof ruleOp>;

const scalar = z.union([z.string().max(500), z.number(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof scalar>;

/** A dot path into the CRM's record; numeric segments index arrays. */
const path = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, "a dot path such as properties.plan");

// Catastrophic backtracking comes from a quantified group that itself holds a quantifier,
// e.g. (a+)+ or (\w*)*; refusing that shape keeps a tenant's pattern from burning the isolate's CPU.
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/;

const comparison = z
  .object({
    path,
    op: ruleOp,
    value: z.union([scalar, z.array(scalar).max(100)]).optional(),
    /** Only for `matches`: "i" for a case-insensitive match. */
    flags: z.literal("i").optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const v = c.value;
    switch (c.op) {
      case "exists":
        if (v !== undefined && typeof v !== "boolean") ctx.addIssue({ code: "custom", path: ["value"], message: "exists takes true, false or nothing" });
        break;
      case "in":
        if (!Array.isArray(v)) ctx.addIssue({ code: "custom", path: ["value"], message: "in takes an array of values" });
        break;
      case "matches":
        if (typeof v !== "string") {
          ctx.addIssue({ code: "custom", path: ["value"], message: "matches takes a regular expression string" });
        } else if (v.length > 200 || NESTED_QUANTIFIER.test(v)) {
          ctx.addIssue({ code: "custom", path: ["value"], message: "pattern too long or with nested quantifiers" });
        } else {
          try {
            new RegExp(v, c.flags ?? "");
          } catch {
            ctx.addIssue({ code: "custom", path: ["value"], message: "not a valid regular expression" });
          }
        }
        break;
      default:
        if (v === undefined || Array.isArray(v)) ctx.addIssue({ code: "custom", path: ["value"], message: `${c.op} takes one value` });
    }
    if (c.flags !== undefined && c.op !== "matches") ctx.addIssue({ code: "custom", path: ["flags"], message: "flags only apply to matches" });
  });

export type Condition =
  | z.infer<typeof comparison>
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

/** How deep all/any/not may nest. Bounded so a config cannot make evaluation recurse without end. */
export const MAX_CONDITION_DEPTH = 4;

// Built level by level rather than with z.lazy: the bound is part of the schema, and the
// OpenAPI generator (which cannot follow recursive schemas) can write it out.
function nested(inner: z.ZodType<Condition>): z.ZodType<Condition> {
  return z.union([
    comparison,
    z.object({ all: z.array(inner).min(1).max(50) }).strict(),
    z.object({ any: z.array(inner).min(1).max(50) }).strict(),
    z.object({ not: inner }).strict(),
  ]);
}
let level: z.ZodType<Condition> = comparison;
for (let i = 0; i < MAX_CONDITION_DEPTH; i++) level = nested(level);
export const condition: z.ZodType<Condition> = level;

export const rule = z.object({ when: condition, destination: decision }).strict();
export type Rule = z.infer<typeof rule>;

/** The part of every non-webhook connector that turns a record into a decision (SPEC 4). */
export const ruleSet = {
  rules: z.array(rule).max(100).default([]),
  /** A record was found and no rule matched. */
  default: decision.default("true"),
  /** No record. */
  notFound: decision.default("false"),
};
export type RuleSet = { rules: Rule[]; default: string; notFound: string };
