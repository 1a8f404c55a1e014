import { BoundedCache } from "../../shared/bounded-cache.js";
import type { Condition, Rule, RuleSet } from "../../shared/rules.js";
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

// Long CRM fields are cut before matching: a pattern never sees more than this.
const MAX_MATCH_INPUT = 1000;
const regexCache = new BoundedCache<string, RegExp>({ max: 500 });
function regex(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(pattern, flags);
    regexCache.set(key, re);
  }
  return re;
}

function test(c: Comparison, record: unknown): boolean {
  const actual = readPath(record, c.path);
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
      return isScalar(actual) && typeof c.value === "string" && regex(c.value, c.flags ?? "").test(String(actual).slice(0, MAX_MATCH_INPUT));
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
