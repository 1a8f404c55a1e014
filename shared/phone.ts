import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/min";
import { z } from "zod";

/**
 * Caller numbers as the PBX hands them over, made comparable: E.164 or "unusable". The `min`
 * metadata (numbering-plan lengths and leading digits, no per-type patterns) keeps the Worker
 * small; it is enough to tell a real number from a withheld or malformed one.
 */

/** ISO 3166-1 alpha-2, for numbers the PBX passes in national format. */
export const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 country code in capitals, such as ES")
  .refine((c): boolean => isSupportedCountry(c), "a country with a telephone numbering plan");

export const E164_PATTERN = /^\+[1-9][0-9]{6,14}$/;
export const MAX_CALLER_NUMBER_LENGTH = 64;

export type CallerNumber = { ok: true; e164: string } | { ok: false; reason: "caller_number_unusable" };

// What PBXs and carriers put in the caller number when there is none to show.
const WITHHELD = new Set(["anonymous", "restricted", "withheld", "private", "unknown", "unavailable", "unavailable number", "blocked", "asterisk"]);

const UNUSABLE: CallerNumber = { ok: false, reason: "caller_number_unusable" };

/** A trunk's `<sip:+34…@host>` or `"Name" <+34…>` (a SIP name-addr, as CALLERID(all) prints it): the number is inside the brackets. */
const NAME_ADDR = /^(?:"[^"]*"\s*|[^"<>]*)<([^<>]*)>$/;

/** The number part of what the PBX handed over: the user part of a tel:/sip: URI, brackets and parameters gone. */
export function numberText(raw: string): string {
  const trimmed = raw.trim();
  const inner = NAME_ADDR.exec(trimmed)?.[1] ?? trimmed;
  return inner.trim().replace(/^(?:tel|sips?):/i, "").replace(/@.*$/, "").replace(/;.*$/, "").trim();
}

/** One reading of the text: E.164 when it is a valid number of some plan, else null. */
function e164Of(text: string, country: string | undefined): string | null {
  const parsed = parsePhoneNumberFromString(text, country ? { defaultCountry: country as CountryCode } : {});
  return parsed?.isValid() && E164_PATTERN.test(parsed.number) ? parsed.number : null;
}

/**
 * The caller number in E.164, or unusable: empty, withheld, without a country (national
 * format and no default country), or not a number of any numbering plan. Never throws.
 *
 * A lost `+`: Asterisk's CURL() posts `callerNumber=${CALLERID(num)}` as written, and form
 * decoding turns the unencoded `+` of `+5491155551234` into a space. So a number that arrives
 * as one space then digits is read both ways, as `+<digits>` and as a national number of the
 * default country: taken when only one reading is a valid number or both are the same number
 * (a caller of the tenant's own country always is), unusable when they are two different valid
 * numbers (`" 869696601"` in ES is +86 9696601 or +34 869 69 66 01): a guess could route the
 * call as someone else.
 *
 * `00` then a country code is read the same two ways: most plans dial abroad with 00, but not
 * all (in BR `00 22 46…` is carrier 22 dialling +46…, in the US 00 dials nothing), so a number
 * that the default country reads as another valid number is unusable too.
 */
export function normalizeCallerNumber(raw: string, defaultCountry?: string | null): CallerNumber {
  if (raw.length > MAX_CALLER_NUMBER_LENGTH) return UNUSABLE;
  const text = numberText(raw);
  if (text === "" || WITHHELD.has(text.toLowerCase())) return UNUSABLE;
  // Letters are vanity numbers at best, withheld markers at worst: neither identifies a caller.
  if (!/^[+0-9 ()./-]+$/.test(text) || !/[0-9]/.test(text)) return UNUSABLE;
  const country = defaultCountry && isSupportedCountry(defaultCountry) ? defaultCountry : undefined;
  const national = e164Of(text, country);
  const written = /^ [0-9]/.test(raw) ? `+${text}` : /^00\s*[1-9]/.test(text) ? `+${text.replace(/^00\s*/, "")}` : null;
  if (written === null) return national ? { ok: true, e164: national } : UNUSABLE;
  const international = e164Of(written, undefined);
  if (national && international && national !== international) return UNUSABLE;
  const e164 = international ?? national;
  return e164 ? { ok: true, e164 } : UNUSABLE;
}

/** An E.164 number in the forms CRM phone searches take. */
export type PhoneQuery = {
  e164: string;
  /** Country calling code and national number, digits only ("34911234567"). */
  digits: string;
  /** The national significant number, digits only ("911234567"): what suffix and "without country code" searches compare. */
  national: string;
  /** "34". */
  callingCode: string;
};

export function phoneQuery(e164: string): PhoneQuery {
  const parsed = parsePhoneNumberFromString(e164);
  const national = parsed?.nationalNumber ?? e164.replace(/^\+/, "");
  const callingCode = parsed?.countryCallingCode ?? "";
  return { e164, digits: e164.replace(/^\+/, ""), national, callingCode };
}

/** Logs and pages show a caller number like an id: its last 2 digits, and a "+" saying it is a number. */
export function maskNumber(e164: string): string {
  const digits = e164.replace(/^\+/, "");
  return `+${"*".repeat(Math.max(0, digits.length - 2))}${digits.slice(-2)}`;
}
