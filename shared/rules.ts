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

/** Times a counted repeat `{n}` / `{n,m}` may say. RE2 allows 1000; none of ours needs more than this. */
export const MAX_REPEAT = 100;
/**
 * Compiling a `\p{…}` class costs about what this many instructions do (RE2 builds its table of
 * ranges, and case-folds it under flag i), so it counts that much toward a pattern's size.
 */
export const UNICODE_CLASS_COST = 40;
// Under flag i RE2 folds an explicit range character by character: `[\x{100}-\x{FFFF}]` costs
// milliseconds. Ranges reaching past both ends of the folding characters are taken whole, cheaply.
const FOLD_FIRST = 0x41;
const FOLD_LAST = 0x1e943;
const FOLDED_PER_UNIT = 64;
/** A negated class (`[^…]`, `\W`, `[[:^alpha:]]`) or a range over 256 characters compiles to many ranges: it costs this much. */
const WIDE_CLASS_COST = 10;

/**
 * `matches` runs on RE2 (linear time, no backtracking), so no pattern can hold the isolate's CPU;
 * what RE2 cannot run (backreferences, lookaround, possessive quantifiers) is refused at save time.
 */
export function compilePattern(pattern: string, flags: "i" | undefined): RE2JS {
  return RE2JS.compile(pattern, flags === "i" ? RE2JS.CASE_INSENSITIVE : 0);
}

/**
 * What compiling a pattern costs, in RE2 instructions, read from its text alone, or why it is
 * refused; compiling is what costs (RE2 copies a repeated part once per repeat), so this comes first.
 * Every atom counts at least one, so the count is at least the product of nested repeats.
 * An estimate: RE2 itself still judges the syntax, and its compiled size is checked after.
 */
export function patternCost(pattern: string, flags: "i" | undefined): number | string {
  const fold = flags === "i" || /\(\?[a-zA-Z-]*i/.test(pattern);
  // Parsing cost that does not grow with repeats: classes are built once, then shared by the copies.
  let tables = 0;
  const unicodeClass = UNICODE_CLASS_COST * (fold ? 2 : 1);
  // One frame per open group: the size so far and the size of its last atom (what a quantifier repeats).
  const frames = [{ size: 0, last: 0, capture: 0 }];
  let f = frames[0]!;
  const atom = (n: number) => {
    f.last = n;
    f.size += n;
  };
  const codePoint = (at: number): [cp: number, next: number] => {
    if (pattern[at] !== "\\") {
      const cp = pattern.codePointAt(at) ?? 0;
      return [cp, at + (cp > 0xffff ? 2 : 1)];
    }
    const hex = /^\\x(?:\{([0-9a-fA-F]{1,8})\}|([0-9a-fA-F]{2}))/.exec(pattern.slice(at, at + 12));
    if (hex) return [parseInt(hex[1] ?? hex[2]!, 16), at + hex[0].length];
    return [pattern.charCodeAt(at + 1), at + 2];
  };
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const e = pattern[i + 1];
      if (e === "p" || e === "P") {
        tables += unicodeClass;
        const close = pattern[i + 2] === "{" ? pattern.indexOf("}", i) : -1;
        i = close >= 0 ? close + 1 : i + 3;
        atom(1);
      } else if (e === "Q") {
        const end = pattern.indexOf("\\E", i);
        const text = pattern.slice(i + 2, end < 0 ? undefined : end);
        for (let k = 0; k < text.length; k++) atom(1);
        i = end < 0 ? pattern.length : end + 2;
      } else {
        if (e === "D" || e === "W" || e === "S") tables += WIDE_CLASS_COST;
        i = codePoint(i)[1];
        atom(1);
      }
    } else if (ch === "[") {
      let j = i + 1;
      if (pattern[j] === "^") {
        tables += WIDE_CLASS_COST;
        j++;
      }
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") {
        if (pattern.startsWith("[:", j)) {
          if (pattern[j + 2] === "^") tables += WIDE_CLASS_COST;
          const close = pattern.indexOf(":]", j + 2);
          j = close >= 0 ? close + 2 : j + 2;
          continue;
        }
        if (pattern[j] === "\\" && (pattern[j + 1] === "p" || pattern[j + 1] === "P")) {
          tables += unicodeClass;
          const close = pattern[j + 2] === "{" ? pattern.indexOf("}", j) : -1;
          j = close >= 0 ? close + 1 : j + 3;
          continue;
        }
        if (pattern[j] === "\\" && /[DWS]/.test(pattern[j + 1] ?? "")) tables += WIDE_CLASS_COST;
        const [lo, afterLo] = codePoint(j);
        j = afterLo;
        if (pattern[j] === "-" && j + 1 < pattern.length && pattern[j + 1] !== "]") {
          const [hi, afterHi] = codePoint(j + 1);
          j = afterHi;
          if (hi - lo > 0xff) tables += WIDE_CLASS_COST;
          if (fold && !(lo <= FOLD_FIRST && hi >= FOLD_LAST)) {
            tables += Math.max(0, Math.min(hi, FOLD_LAST) - Math.max(lo, FOLD_FIRST)) / FOLDED_PER_UNIT;
          }
        }
      }
      i = j + 1;
      atom(1);
    } else if (ch === "(") {
      const flagsOnly = /^\(\?[a-zA-Z-]*\)/.exec(pattern.slice(i, i + 12));
      if (flagsOnly) {
        i += flagsOnly[0].length;
        continue;
      }
      const opening = /^\((?:\?[a-zA-Z-]*:|\?P?<[^>]*>)?/.exec(pattern.slice(i))!;
      i += opening[0].length;
      f = { size: 0, last: 0, capture: /^\(\?[a-zA-Z-]*:/.test(opening[0]) ? 0 : 2 };
      frames.push(f);
    } else if (ch === ")" && frames.length > 1) {
      const done = frames.pop()!;
      const group = done.size + done.capture;
      f = frames[frames.length - 1]!;
      atom(group);
      i++;
    } else if (ch === "|") {
      f.size++;
      f.last = 0;
      i++;
    } else if (ch === "*" || ch === "+" || ch === "?") {
      f.size++;
      i++;
    } else {
      const repeat = ch === "{" ? /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 20)) : null;
      if (!repeat) {
        i = codePoint(i)[1];
        atom(1);
        continue;
      }
      const n = Number(repeat[1]);
      const m = repeat[2] === undefined ? n : repeat[3] === "" ? n + 1 : Number(repeat[3]);
      if (n > MAX_REPEAT || m > MAX_REPEAT) return `counted repeat ${repeat[0]} is over ${MAX_REPEAT}; RE2 copies the repeated part once per repeat`;
      // {n,m} compiles to m copies of what it repeats (the last m−n optional).
      const copies = Math.max(m, 1);
      f.size += f.last * (copies - 1);
      f.last *= copies;
      i += repeat[0].length;
    }
  }
  // Every program also has its capture of the whole match and its match instruction (3 for "");
  // groups left open (RE2 refuses them) still count.
  return Math.ceil(3 + frames.reduce((n, g) => n + g.size, 0) + tables);
}

const tooLarge = (size: number, cap: number) =>
  `pattern too large once compiled (about ${size} > ${cap} RE2 instructions; a \\p{…} class counts ${UNICODE_CLASS_COST}): use fewer or smaller counted repeats {n}`;

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
        }
        // The pattern's cost is checked with the whole rule set's (checkCost), once the conditions are counted.
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

type Pattern = { value: string; flags: "i" | undefined; path: PropertyKey[] };
function walk(c: Condition, path: PropertyKey[], acc: { nodes: number; patterns: Pattern[] }): void {
  acc.nodes++;
  if ("all" in c) c.all.forEach((x, i) => walk(x, [...path, "all", i], acc));
  else if ("any" in c) c.any.forEach((x, i) => walk(x, [...path, "any", i], acc));
  else if ("not" in c) walk(c.not, [...path, "not"], acc);
  else if (c.op === "matches" && typeof c.value === "string") acc.patterns.push({ value: c.value, flags: c.flags, path: [...path, "value"] });
}

/**
 * The caps on what one connector's rules cost, cheapest check first: nothing is compiled until the
 * conditions are counted and every pattern's text is within its caps, and compiling stops as soon
 * as the connector's budget is spent. So a 64 KB body costs a few milliseconds to refuse.
 */
function checkCost(conds: Array<{ when: Condition; path: PropertyKey[] }>, ctx: z.RefinementCtx): void {
  const acc = { nodes: 0, patterns: [] as Pattern[] };
  for (const c of conds) walk(c.when, c.path, acc);
  if (acc.nodes > MAX_RULE_NODES) {
    ctx.addIssue({ code: "custom", message: `${acc.nodes} conditions in all the rules; at most ${MAX_RULE_NODES}` });
    return;
  }
  const fit: Array<Pattern & { cost: number }> = [];
  for (const p of acc.patterns) {
    // Too long was said on the pattern's own field, by the comparison's check.
    if (p.value.length > MAX_PATTERN_LENGTH) continue;
    const cost = patternCost(p.value, p.flags);
    if (typeof cost === "string") ctx.addIssue({ code: "custom", path: p.path, message: cost });
    else if (cost > MAX_PATTERN_PROGRAM) ctx.addIssue({ code: "custom", path: p.path, message: tooLarge(cost, MAX_PATTERN_PROGRAM) });
    else fit.push({ ...p, cost });
  }
  if (fit.length < acc.patterns.length) return;
  const estimated = fit.reduce((n, p) => n + p.cost, 0);
  if (estimated > MAX_RULES_PROGRAM) {
    ctx.addIssue({ code: "custom", message: `the matches patterns together are too large once compiled (about ${estimated} > ${MAX_RULES_PROGRAM})` });
    return;
  }
  let program = 0;
  for (const p of fit) {
    let size: number;
    try {
      size = compilePattern(p.value, p.flags).programSize();
    } catch (e) {
      const why = e instanceof RE2JSException ? `: ${e.message.replace(/^error parsing regexp: /, "")}` : "";
      const message = `not a regular expression RE2 accepts (no backreferences, lookaround or possessive quantifiers)${why}`;
      ctx.addIssue({ code: "custom", path: p.path, message });
      continue;
    }
    if (size > MAX_PATTERN_PROGRAM) ctx.addIssue({ code: "custom", path: p.path, message: tooLarge(size, MAX_PATTERN_PROGRAM) });
    program += size;
    if (program > MAX_RULES_PROGRAM) {
      ctx.addIssue({ code: "custom", message: `the matches patterns together are too large once compiled (${program} > ${MAX_RULES_PROGRAM} so far)` });
      return;
    }
  }
}

/** One condition on its own (its patterns compiled); within a rule set, the set's check does that. */
export const condition: z.ZodType<Condition> = level.superRefine((c, ctx) => checkCost([{ when: c, path: [] }], ctx));

export const rule = z.object({ when: level, destination: decision }).strict();
export type Rule = z.infer<typeof rule>;

const rules = z
  .array(rule)
  .max(100)
  .superRefine((rs, ctx) => checkCost(rs.map((r, i) => ({ when: r.when, path: [i, "when"] })), ctx));

/** The part of every non-webhook connector that turns a record into a decision (SPEC 4). */
export const ruleSet = {
  rules: rules.default([]),
  /** A record was found and no rule matched. */
  default: decision.default("true"),
  /** No record. */
  notFound: decision.default("false"),
};
export type RuleSet = { rules: Rule[]; default: string; notFound: string };
