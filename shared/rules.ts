import { RE2JS, RE2JSException } from "re2js";
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

/** Longest pattern text a `matches` condition takes. */
export const MAX_PATTERN_LENGTH = 200;
/**
 * RE2 runs in time proportional to program size × input length, so these two bound what all the
 * `matches` of one connector cost on any record (with the input cut at MAX_FIELD_TEXT).
 */
export const MAX_PATTERN_PROGRAM = 200;
export const MAX_RULES_PROGRAM = 400;
/** Condition nodes (comparisons and all/any/not) across all the rules of one connector. */
export const MAX_RULE_NODES = 300;

/**
 * `matches` runs on RE2 (linear time, no backtracking), so no pattern can hold the isolate's CPU;
 * what RE2 cannot run (backreferences, lookaround, possessive quantifiers) is refused at save time.
 */
export function compilePattern(pattern: string, flags: "i" | undefined): RE2JS {
  return RE2JS.compile(pattern, flags === "i" ? RE2JS.CASE_INSENSITIVE : 0);
}

/** The compiled program size of a valid pattern, or why RE2 refuses it. */
function patternProgram(pattern: string, flags: "i" | undefined): number | string {
  try {
    return compilePattern(pattern, flags).programSize();
  } catch (e) {
    const why = e instanceof RE2JSException ? `: ${e.message.replace(/^error parsing regexp: /, "")}` : "";
    return `not a regular expression RE2 accepts (no backreferences, lookaround or possessive quantifiers; counted repeats at most 1000 in all)${why}`;
  }
}

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
        } else if (v.length > MAX_PATTERN_LENGTH) {
          ctx.addIssue({ code: "custom", path: ["value"], message: `pattern longer than ${MAX_PATTERN_LENGTH} characters` });
        } else {
          const size = patternProgram(v, c.flags);
          if (typeof size === "string") ctx.addIssue({ code: "custom", path: ["value"], message: size });
          else if (size > MAX_PATTERN_PROGRAM)
            ctx.addIssue({ code: "custom", path: ["value"], message: `pattern too large once compiled (${size} > ${MAX_PATTERN_PROGRAM}); use fewer or smaller counted repeats {n}` });
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

function cost(c: Condition, acc: { nodes: number; program: number }): void {
  acc.nodes++;
  if ("all" in c) c.all.forEach((x) => cost(x, acc));
  else if ("any" in c) c.any.forEach((x) => cost(x, acc));
  else if ("not" in c) cost(c.not, acc);
  else if (c.op === "matches" && typeof c.value === "string") {
    const size = patternProgram(c.value, c.flags);
    if (typeof size === "number") acc.program += size;
  }
}

const rules = z
  .array(rule)
  .max(100)
  .superRefine((rs, ctx) => {
    const acc = { nodes: 0, program: 0 };
    rs.forEach((r) => cost(r.when, acc));
    if (acc.nodes > MAX_RULE_NODES) ctx.addIssue({ code: "custom", message: `${acc.nodes} conditions in all the rules; at most ${MAX_RULE_NODES}` });
    if (acc.program > MAX_RULES_PROGRAM)
      ctx.addIssue({ code: "custom", message: `the matches patterns together are too large once compiled (${acc.program} > ${MAX_RULES_PROGRAM})` });
  });

/** The part of every non-webhook connector that turns a record into a decision (SPEC 4). */
export const ruleSet = {
  rules: rules.default([]),
  /** A record was found and no rule matched. */
  default: decision.default("true"),
  /** No record. */
  notFound: decision.default("false"),
};
export type RuleSet = { rules: Rule[]; default: string; notFound: string };
