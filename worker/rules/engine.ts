import { BoundedCache } from "../../shared/bounded-cache.js";
import type { RE2JS } from "re2js";
import { compilePattern, type Condition, type Rule, type RuleSet } from "../../shared/rules.js";
import { readPath } from "../connectors/record.js";

type Comparison = Extract<Condition, { op: string }>;

const isScalar = (v: unknown): v is string | number | boolean => ["string", "number", "boolean"].includes(typeof v);

/** CRMs return numbers as strings and back ("3" vs 3): scalars compare by their text; null only equals null. */
function looselyEqual(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  return isScalar(a) && isScalar(b) && String(a) === String(b);
}

function asNumber(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** Numbers compare as numbers; otherwise two strings compare as text (ISO dates order correctly). */
function compare(a: unknown, b: unknown): number | null {
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== null && nb !== null) return na - nb;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

/**
 * A CRM field's text is cut to this before any comparison, so a 1 MB field costs no more than a
 * short one. Values in a rule are at most 500 characters, so eq/ne/in/gt… answer as on the whole text.
 */
export const MAX_FIELD_TEXT = 1000;
// Compiled programs are kept (about 30 KB each); see matchText for their DFA states.
const regexCache = new BoundedCache<string, RE2JS | null>({ max: 200 });
function regex(pattern: string, flags: "i" | undefined): RE2JS | null {
  const key = `${flags ?? ""}/${pattern}`;
  let re = regexCache.get(key);
  if (re === undefined) {
    // Only a connector saved before matches ran on RE2 can hold a pattern RE2 refuses: it never
    // matches (saving the connector again says why) rather than failing every identify.
    try {
      re = compilePattern(pattern, flags);
    } catch {
      re = null;
    }
    regexCache.set(key, re);
  }
  return re;
}

function matchText(re: RE2JS | null, text: string): boolean {
  if (re === null) return false;
  try {
    return re.test(text);
  } finally {
    // RE2's lazy DFA keeps the states it built, up to 8 MB a pattern and over 1 MB after a few
    // records in practice; across cached patterns that would outgrow a 128 MB isolate. Dropping them
    // costs a rebuild per evaluation, which the cost test (test/rules/cost.test.ts) measures.
    re.re2().lazyDFA?.clearCache();
  }
}

function test(c: Comparison, record: unknown): boolean {
  const read = readPath(record, c.path);
  const actual = typeof read === "string" && read.length > MAX_FIELD_TEXT ? read.slice(0, MAX_FIELD_TEXT) : read;
  switch (c.op) {
    case "exists":
      return (c.value ?? true) === (actual !== undefined && actual !== null);
    case "eq":
      return looselyEqual(actual, c.value);
    case "ne":
      return !looselyEqual(actual, c.value);
    case "in":
      return Array.isArray(c.value) && c.value.some((v) => looselyEqual(actual, v));
    case "matches":
      return isScalar(actual) && typeof c.value === "string" && matchText(regex(c.value, c.flags), String(actual));
    default: {
      const cmp = compare(actual, c.value);
      if (cmp === null) return false;
      return c.op === "gt" ? cmp > 0 : c.op === "gte" ? cmp >= 0 : c.op === "lt" ? cmp < 0 : cmp <= 0;
    }
  }
}

export function matches(cond: Condition, record: unknown): boolean {
  if ("all" in cond) return cond.all.every((c) => matches(c, record));
  if ("any" in cond) return cond.any.some((c) => matches(c, record));
  if ("not" in cond) return !matches(cond.not, record);
  return test(cond, record);
}

export type RuleOutcome = { destination: string; rule: number | "default" | "notFound" };

/** The first rule whose condition holds decides; then `default`. Pure: no I/O, no code evaluated. */
export function applyRules(set: RuleSet, record: unknown): RuleOutcome {
  const i = set.rules.findIndex((r: Rule) => matches(r.when, record));
  return i >= 0 ? { destination: set.rules[i]!.destination, rule: i } : { destination: set.default, rule: "default" };
}
