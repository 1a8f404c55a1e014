/**
 * Query-language escaping for CRM lookups. The customer id is digits today, but these are
 * the only way a value enters a query, so any string must stay one literal: it can never
 * close the literal, add a clause or change the operator. Where a CRM documents no escape
 * for a character, the value is refused rather than guessed at.
 */
import { CrmError } from "./errors.js";

// SOQL "Quoted String Escape Sequences": \' \" \\ \n \r \t \b \f; any other backslash is an error there.
const SOQL_ESCAPES: Record<string, string> = { "'": "\\'", '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

/** A SOQL string literal, quotes included. */
export function soqlString(value: string): string {
  return `'${value.replace(/['"\\\n\r\t\b\f]/g, (c) => SOQL_ESCAPES[c]!)}'`;
}

// SOSL FIND reserved characters, each escaped with a backslash (SOSL reference, "FIND clause").
const SOSL_RESERVED = /[?&|!{}[\]()^~*:\\"'+-]/g;

/** A SOSL search term inside FIND {…}: reserved characters escaped; braces cannot close the term. */
export function soslTerm(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters have no escape in SOSL: refuse them
  if (/[\u0000-\u001f\u007f]/.test(value) || value.length > 400) throw new CrmError("invalid_query_value", "the value holds characters SOSL cannot carry");
  return value.replace(SOSL_RESERVED, (c) => `\\${c}`);
}

/** An OData string literal, quotes included: a single quote is written twice (OData ABNF, SQUOTE-in-string). */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * A value inside Zoho's `(field:equals:value)`. Zoho documents escaping parentheses and
 * commas with a backslash; the backslash itself is escaped too so an input ending in "\"
 * cannot swallow the closing parenthesis.
 */
export function zohoCriteriaValue(value: string): string {
  return value.replace(/[\\(),]/g, (c) => `\\${c}`);
}

// Neither Freshdesk's query nor Zendesk's search syntax documents an escape for its quote
// characters, so values holding them (or control characters) are refused, never sent.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused here
const UNQUOTABLE = /["'\\\u0000-\u001f\u007f]/;

function refuse(): never {
  throw new CrmError("invalid_query_value", "the id holds characters this CRM's query syntax cannot carry");
}

/** Freshdesk `query="<field>:'<value>'"`, outer double quotes included. */
export function freshdeskQuery(field: string, value: string): string {
  return `"${freshdeskTerm(field, value)}"`;
}

/** One `<field>:'<value>'` term of a Freshdesk query, to be joined with OR / AND inside the outer quotes. */
export function freshdeskTerm(field: string, value: string): string {
  if (UNQUOTABLE.test(value) || value.length > 400) refuse();
  return `${field}:'${value}'`;
}

/** Zendesk search syntax: `<field>:"<value>"`, a phrase so spaces and operators stay inside the value. */
export function zendeskQuery(field: string, value: string): string {
  if (UNQUOTABLE.test(value) || value.length > 400) refuse();
  return `${field}:"${value}"`;
}
