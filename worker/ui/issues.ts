import { CUSTOMER_ID_PATTERN, SLUG_PATTERN } from "../../shared/ids.js";
import type { FieldErrors } from "./fields.js";
import { dict, type Dict, type Lang } from "./i18n.js";

/**
 * The one place zod issues and the store's validation messages become sentences a user reads,
 * in the page's language. Every form goes through here, so no page shows zod's own wording
 * ("Invalid input: expected number, received undefined") or an English rule on a Spanish page.
 */

/**
 * What this module takes: a zod issue (code and parameters beside the message) or a service's
 * Issue (the same under `detail`; none for the service's own checks, whose message is English).
 */
type AnyIssue = { code?: string; path: PropertyKey[] | string; message: string; detail?: Readonly<Record<string, unknown>> };
const pathOf = (i: AnyIssue) => (typeof i.path === "string" ? i.path : i.path.map(String).join("."));

const list = (v: unknown) => (Array.isArray(v) ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ") : "");

/**
 * Our schemas' own English messages (superRefine, schema-level), matched so the Spanish page
 * says them in Spanish; each pattern is anchored on text the schema writes.
 */
function customText(t: Dict["issues"], message: string): string | null {
  let m: RegExpExecArray | null;
  if (message === "required for the CRM interaction types") return t.needsConnector;
  if (message === "required to identify by caller number") return t.needsConnectorForNumber;
  if (message.startsWith('expected "true", "false" or "X,Y"')) return t.destination;
  if (message === "exists takes true, false or nothing") return t.existsValue;
  if (message === "in takes an array of values") return t.inValue;
  if (message === "matches takes a regular expression string") return t.matchesValue;
  if ((m = /^(\w+) takes one value$/.exec(message))) return t.oneValue(m[1]!);
  if (message === "flags only apply to matches") return t.flagsOnlyMatches;
  if ((m = /^pattern longer than (\d+) characters$/.exec(message))) return t.patternTooLong(m[1]!);
  if (message.startsWith("pattern too large once compiled")) return t.patternTooLarge;
  if (message.startsWith("the matches patterns together are too large")) return t.patternsTooLarge;
  if ((m = /^(\d+) conditions in all the rules; at most (\d+)$/.exec(message))) return t.tooManyConditions(m[1]!, m[2]!);
  if (message.startsWith("not a regular expression RE2 accepts")) return t.notRe2;
  if ((m = /^no connector named (.+)$/.exec(message))) return t.noConnector(m[1]!);
  if (message === "secret required") return t.secretRequired;
  if (message.startsWith("not an IANA time zone name")) return t.timeZone;
  if (message === "a country with a telephone numbering plan") return t.countryPlan;
  if (message === "must contain {idContact}" || message === "must contain {idContact} or {callerNumber}") return t.mustContainId;
  if (message.startsWith("only agent NODES_FILE nodes may name a url")) return t.nodeUrl;
  if (/^either \w+ or oauth, not both$/.test(message)) return t.tokenOrConnect;
  if (message === "either email and apiToken, or oauth") return t.zendeskAuth;
  if (message === "an absolute http(s) URL") return t.absoluteUrl;
  if ((m = /^at most (\d+) headers$/.exec(message))) return t.maxHeaders(m[1]!);
  if (message === "idContact or callerNumber" || message === "exactly one of idContact and callerNumber") return t.idOrNumber;
  return null;
}

/** One issue as our sentence. Unknown custom messages become a plain "not valid" rather than leak another language. */
export function issueText(lang: Lang, issue: AnyIssue): string {
  const t = dict(lang).issues;
  // The parameters differ per code (minimum, format, values…); each case reads its own.
  const p = (issue.detail ?? issue) as Record<string, unknown>;
  const origin = p.origin;
  switch (p.code) {
    case "invalid_type": {
      const expected = p.expected;
      if (expected === "number") return t.number;
      if (expected === "int") return t.integer;
      if (expected === "array") return t.list;
      if (expected === "object") return t.object;
      if (expected === "boolean") return t.yesNo;
      // A service's issue carries no input (it could be a secret): zod's own wording says whether the value was missing.
      const missing = "input" in p ? p.input === undefined || p.input === null : /received (undefined|null)$/.test(issue.message);
      if (missing) return t.required;
      return expected === "string" ? t.text : t.invalid;
    }
    case "too_small": {
      const n = Number(p.minimum);
      if (origin === "string") return n <= 1 ? t.required : t.minChars(n);
      if (origin === "array" || origin === "set") return t.minItems(n);
      return t.atLeast(p.inclusive === false ? n + 1 : n);
    }
    case "too_big": {
      const n = Number(p.maximum);
      if (origin === "string") return t.maxChars(n);
      if (origin === "array" || origin === "set") return t.maxItems(n);
      return t.atMost(p.inclusive === false ? n - 1 : n);
    }
    case "invalid_format": {
      if (p.format === "url") return t.url;
      if (p.format === "email") return t.email;
      if (p.pattern === String(SLUG_PATTERN)) return t.slug;
      if (p.pattern === String(CUSTOMER_ID_PATTERN)) return t.customerId;
      const named = t.formats[issue.message];
      return named ? t.expected(named) : t.format;
    }
    case "invalid_value":
      return t.oneOf(list(p.values));
    case "unrecognized_keys":
      return t.unknownKeys(list(p.keys));
    default: {
      const own = customText(t, issue.message);
      if (own) return own;
      // A service's own check has no code: its English sentence serves the English page.
      return lang === "en" && p.code === undefined ? issue.message : t.invalid;
    }
  }
}

/** The same issues with our sentences as their messages (for helpers that take zod issues, such as the connector form's). */
export function localizeIssues<I extends AnyIssue>(issues: readonly I[], lang: Lang): I[] {
  return issues.map((i) => ({ ...i, message: issueText(lang, i) }));
}

/** zod issues → the form field they belong to: the issue path joined with "." is the control's name. */
export function fieldErrors(issues: readonly AnyIssue[], lang: Lang, known?: readonly string[]): FieldErrors {
  const out: FieldErrors = {};
  for (const i of issues) {
    const path = pathOf(i);
    // An issue at a path with no control of its own goes to the summary, its path kept as the locator.
    if (!known || known.includes(path)) out[path] ??= issueText(lang, i);
    else out[""] ??= path ? `${path}: ${issueText(lang, i)}` : issueText(lang, i);
  }
  return out;
}

/** The first issue's sentence, for a single value (an id field). */
export function firstIssue(error: { issues: readonly AnyIssue[] }, lang: Lang): string {
  const first = error.issues[0];
  return first ? issueText(lang, first) : dict(lang).issues.invalid;
}

/** A decision's reason code with its short explanation in the page's language (null for an unknown code: the code alone is shown). */
export function reasonText(lang: Lang, code: string): string | null {
  const t = dict(lang);
  const http = /^(crm|edge)_http_(\d{3})$/.exec(code);
  return http ? t.reasonHttp(http[1] as "crm" | "edge", http[2]!) : (t.reasons[code] ?? null);
}
