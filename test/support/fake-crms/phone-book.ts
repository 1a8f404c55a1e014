import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import { customerFor, type Customer } from "./common.js";

/**
 * The fake CRMs' phone directory: numbers stored the ways people type them into a CRM
 * (national, international, spaced, dashed, bracketed, E.164), so each fake's phone search
 * can be as forgiving, or as literal, as the real CRM's documented search is.
 */
export type PhoneEntry = { customerId: string; seq: number; phone?: string; mobile?: string };

export const PHONE_BOOK: PhoneEntry[] = [
  { customerId: "700001", seq: 1, phone: "+34 911 23 45 67" }, // international, spaced
  { customerId: "700002", seq: 2, phone: "912 345 678" }, // national, spaced
  { customerId: "700003", seq: 3, mobile: "+34-612-345-678" }, // international, dashed, in the mobile field
  { customerId: "700004", seq: 4, phone: "(+34) 913 456 789" }, // bracketed country code
  { customerId: "700005", seq: 5, phone: "+34914567890" }, // E.164
  { customerId: "700006", seq: 6, mobile: "34615678901" }, // international digits
  { customerId: "700007", seq: 7, phone: "915678901" }, // national digits
  // Two customers sharing one number (a household, a switchboard): ambiguous everywhere.
  { customerId: "700008", seq: 8, phone: "+34916789012" },
  { customerId: "700009", seq: 9, phone: "+34916789012" },
  // A customer abroad whose national digits (551 234 5678) are also a Mexican caller's (+52 55 1234 5678).
  { customerId: "700010", seq: 10, phone: "+1 551-234-5678" },
];

/** The fake portals' own country: how a CRM that normalizes reads a national number. */
export const PORTAL_COUNTRY = "ES";

/** The caller (E.164) each stored form belongs to. */
export const CALLERS = {
  intlSpaced: "+34911234567",
  nationalSpaced: "+34912345678",
  intlDashedMobile: "+34612345678",
  bracketed: "+34913456789",
  e164: "+34914567890",
  intlDigitsMobile: "+34615678901",
  nationalDigits: "+34915678901",
  shared: "+34916789012",
  unknown: "+34919999999",
  /** Mexico: no customer has this number, but 700010's US number has the same national digits. */
  abroad: "+525512345678",
} as const;

export const digitsOf = (s: string) => s.replace(/\D/g, "");
/** What a normalizing CRM computes from a stored number: its national significant number. */
export const nationalOf = (s: string) => parsePhoneNumberFromString(s, PORTAL_COUNTRY)?.nationalNumber ?? digitsOf(s);

/** The customers whose phone or mobile the predicate accepts, with their stored numbers. */
export function phoneMatches(match: (stored: string, field: "phone" | "mobile") => boolean): Array<Customer & { phone: string | null; mobile: string | null }> {
  return PHONE_BOOK.filter((e) => (e.phone !== undefined && match(e.phone, "phone")) || (e.mobile !== undefined && match(e.mobile, "mobile"))).map((e) => ({
    ...customerFor(e.customerId, e.seq),
    phone: e.phone ?? null,
    mobile: e.mobile ?? null,
  }));
}
