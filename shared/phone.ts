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

/** The digits of an E.164 number, without the "+": what digit-matching CRM searches compare. */
export function e164Digits(e164: string): string {
  return e164.replace(/^\+/, "");
}
