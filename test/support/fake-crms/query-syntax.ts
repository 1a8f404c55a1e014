/**
 * Readers for the query languages the CRM connectors write, as each CRM documents them.
 * The fake CRMs decode incoming queries with these, and the escaping property tests use them
 * to prove a value comes back out of its literal unchanged with the query around it intact.
 * Pure: runs in Node (fake CRMs) and workerd (tests).
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
const fail = (problem: string): { ok: false; problem: string } => ({ ok: false, problem });

const SOQL_UNESCAPE: Record<string, string> = { n: "\n", N: "\n", r: "\r", R: "\r", t: "\t", T: "\t", b: "\b", B: "\b", f: "\f", F: "\f", '"': '"', "'": "'", "\\": "\\" };

/** What a literal's reader does at one character: take text and skip ahead, stop (the literal ends there), or refuse. */
type Step = { take: string; skip: number } | "end" | { problem: string };

/** Reads a literal from `start`, one `step` at a time; `end` is the index of the character that closed it. */
function readLiteral(text: string, start: number, unterminated: string, step: (c: string, i: number) => Step): Parsed<{ value: string; end: number }> {
  let value = "";
  for (let i = start; ; ) {
    if (i >= text.length) return fail(unterminated);
    const s = step(text[i]!, i);
    if (s === "end") return { ok: true, value: { value, end: i } };
    if ("problem" in s) return fail(s.problem);
    value += s.take;
    i += s.skip;
  }
}

/** `SELECT <fields> FROM <sobject> WHERE <field> = '<literal>' LIMIT 2` */
export function parseSoqlEquality(q: string): Parsed<{ fields: string[]; sobject: string; field: string; value: string }> {
  const head = /^SELECT ([A-Za-z0-9_.]+(?:, [A-Za-z0-9_.]+)*) FROM ([A-Za-z0-9_]+) WHERE ([A-Za-z0-9_]+) = '/.exec(q);
  if (!head) return fail("not SELECT … FROM … WHERE field = '…'");
  const lit = readLiteral(q, head[0].length, "unterminated string literal", (c, i) => {
    if (c === "'") return "end";
    if (c !== "\\") return { take: c, skip: 1 };
    const e = q[i + 1];
    if (e === "u" && /^[0-9a-fA-F]{4}$/.test(q.slice(i + 2, i + 6))) return { take: String.fromCharCode(parseInt(q.slice(i + 2, i + 6), 16)), skip: 6 };
    if (e === undefined || !(e in SOQL_UNESCAPE)) return { problem: "a backslash that is not a SOQL escape" };
    return { take: SOQL_UNESCAPE[e]!, skip: 2 };
  });
  if (!lit.ok) return lit;
  const { value, end: i } = lit.value;
  if (q.slice(i + 1) !== " LIMIT 2") return fail(`unexpected text after the literal: ${JSON.stringify(q.slice(i + 1))}`);
  return { ok: true, value: { fields: head[1]!.split(", "), sobject: head[2]!, field: head[3]!, value } };
}

/** `<field> eq '<literal>'` where '' stands for one quote. */
export function parseODataEq(filter: string): Parsed<{ field: string; value: string }> {
  const head = /^([A-Za-z_][A-Za-z0-9_]*) eq '/.exec(filter);
  if (!head) return fail("not <field> eq '…'");
  const lit = readLiteral(filter, head[0].length, "unterminated string literal", (c, i) => {
    if (c !== "'") return { take: c, skip: 1 };
    return filter[i + 1] === "'" ? { take: "'", skip: 2 } : "end";
  });
  if (!lit.ok) return lit;
  const { value, end: i } = lit.value;
  if (i + 1 !== filter.length) return fail(`unexpected text after the literal: ${JSON.stringify(filter.slice(i + 1))}`);
  return { ok: true, value: { field: head[1]!, value } };
}

/** `(<field>:equals:<value>)` where \( \) \, \\ are escapes and a bare ( ) , would be syntax. */
export function parseZohoCriteria(criteria: string): Parsed<{ field: string; value: string }> {
  const head = /^\(([A-Za-z][A-Za-z0-9_]*):equals:/.exec(criteria);
  if (!head) return fail("not (field:equals:value)");
  const lit = readLiteral(criteria, head[0].length, "unterminated criteria", (c, i) => {
    if (c === "\\") {
      const e = criteria[i + 1];
      return e === undefined ? { problem: "dangling backslash" } : { take: e, skip: 2 };
    }
    if (c === ")") return "end";
    if (c === "(" || c === ",") return { problem: `unescaped ${c} in the value` };
    return { take: c, skip: 1 };
  });
  if (!lit.ok) return lit;
  const { value, end: i } = lit.value;
  if (i + 1 !== criteria.length) return fail(`unexpected text after the criteria: ${JSON.stringify(criteria.slice(i + 1))}`);
  return { ok: true, value: { field: head[1]!, value } };
}

/** Freshdesk: `"<field>:'<value>'"`. */
export function parseFreshdeskQuery(query: string): Parsed<{ field: string; value: string }> {
  const m = /^"([a-z0-9_]+):'([^'"\\]*)'"$/.exec(query);
  return m ? { ok: true, value: { field: m[1]!, value: m[2]! } } : fail("not \"field:'value'\"");
}

/** Zendesk: `<field>:"<value>"`. */
export function parseZendeskQuery(query: string): Parsed<{ field: string; value: string }> {
  const m = /^([A-Za-z0-9_]+):"([^"\\]*)"$/.exec(query);
  return m ? { ok: true, value: { field: m[1]!, value: m[2]! } } : fail('not field:"value"');
}
