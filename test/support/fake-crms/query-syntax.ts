/**
 * Readers for the query languages the CRM connectors write, as each CRM documents them.
 * The fake CRMs decode incoming queries with these, and the escaping property tests use them
 * to prove a value comes back out of its literal unchanged with the query around it intact.
 * Pure: runs in Node (fake CRMs) and workerd (tests).
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
const fail = (problem: string): { ok: false; problem: string } => ({ ok: false, problem });

const SOQL_UNESCAPE: Record<string, string> = { n: "\n", N: "\n", r: "\r", R: "\r", t: "\t", T: "\t", b: "\b", B: "\b", f: "\f", F: "\f", '"': '"', "'": "'", "\\": "\\" };

/** `SELECT <fields> FROM <sobject> WHERE <field> = '<literal>' LIMIT 2` */
export function parseSoqlEquality(q: string): Parsed<{ fields: string[]; sobject: string; field: string; value: string }> {
  const head = /^SELECT ([A-Za-z0-9_.]+(?:, [A-Za-z0-9_.]+)*) FROM ([A-Za-z0-9_]+) WHERE ([A-Za-z0-9_]+) = '/.exec(q);
  if (!head) return fail("not SELECT … FROM … WHERE field = '…'");
  let i = head[0].length;
  let value = "";
  for (;;) {
    if (i >= q.length) return fail("unterminated string literal");
    const c = q[i]!;
    if (c === "'") break;
    if (c === "\\") {
      const e = q[i + 1];
      if (e === "u" && /^[0-9a-fA-F]{4}$/.test(q.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(q.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      if (e === undefined || !(e in SOQL_UNESCAPE)) return fail("a backslash that is not a SOQL escape");
      value += SOQL_UNESCAPE[e];
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  if (q.slice(i + 1) !== " LIMIT 2") return fail(`unexpected text after the literal: ${JSON.stringify(q.slice(i + 1))}`);
  return { ok: true, value: { fields: head[1]!.split(", "), sobject: head[2]!, field: head[3]!, value } };
}

/** `<field> eq '<literal>'` where '' stands for one quote. */
export function parseODataEq(filter: string): Parsed<{ field: string; value: string }> {
  const head = /^([A-Za-z_][A-Za-z0-9_]*) eq '/.exec(filter);
  if (!head) return fail("not <field> eq '…'");
  let i = head[0].length;
  let value = "";
  for (;;) {
    if (i >= filter.length) return fail("unterminated string literal");
    const c = filter[i]!;
    if (c === "'") {
      if (filter[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      break;
    }
    value += c;
    i++;
  }
  if (i + 1 !== filter.length) return fail(`unexpected text after the literal: ${JSON.stringify(filter.slice(i + 1))}`);
  return { ok: true, value: { field: head[1]!, value } };
}

/** `(<field>:equals:<value>)` where \( \) \, \\ are escapes and a bare ( ) , would be syntax. */
export function parseZohoCriteria(criteria: string): Parsed<{ field: string; value: string }> {
  const head = /^\(([A-Za-z][A-Za-z0-9_]*):equals:/.exec(criteria);
  if (!head) return fail("not (field:equals:value)");
  let i = head[0].length;
  let value = "";
  for (;;) {
    if (i >= criteria.length) return fail("unterminated criteria");
    const c = criteria[i]!;
    if (c === "\\") {
      const e = criteria[i + 1];
      if (e === undefined) return fail("dangling backslash");
      value += e;
      i += 2;
      continue;
    }
    if (c === ")") break;
    if (c === "(" || c === ",") return fail(`unescaped ${c} in the value`);
    value += c;
    i++;
  }
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
