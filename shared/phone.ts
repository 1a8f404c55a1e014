import { isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/min";
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

/**
 * The caller number in E.164, or unusable: empty, withheld, without a country (national
 * format and no default country), or not a number of any numbering plan. Never throws.
 */
export function normalizeCallerNumber(raw: string, defaultCountry?: string | null): CallerNumber {
  if (raw.length > MAX_CALLER_NUMBER_LENGTH) return UNUSABLE;
  // A SIP/tel URI's user part is the number; the rest is routing noise.
  const text = raw.trim().replace(/^(?:tel|sips?):/i, "").replace(/@.*$/, "").replace(/;.*$/, "").trim();
  if (text === "" || WITHHELD.has(text.toLowerCase())) return UNUSABLE;
  // Letters are vanity numbers at best, withheld markers at worst: neither identifies a caller.
  if (!/^[+0-9 ()./-]+$/.test(text) || !/[0-9]/.test(text)) return UNUSABLE;
  const country = defaultCountry && isSupportedCountry(defaultCountry) ? defaultCountry : undefined;
  const parsed = parsePhoneNumberFromString(text, country ? { defaultCountry: country } : {});
  if (!parsed || !parsed.isValid()) return UNUSABLE;
  const e164 = parsed.number;
  return E164_PATTERN.test(e164) ? { ok: true, e164 } : UNUSABLE;
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
