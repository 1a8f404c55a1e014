import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import { normalizeCallerNumber, type PhoneQuery } from "../../shared/phone.js";
import type { LookupResult } from "./types.js";

// How CRMs store an extension beside the number ("+1 551-234-5678 ext. 12"): the line is the number.
const EXTENSION = /\s*(?:ext\.?|extension|x|#)\s*[0-9]+\s*$/i;

/** A stored phone value as E.164; a number without a country is read in the caller's, as a national-digits search did. */
function storedE164(value: unknown, callerCountry: string | undefined): string | null {
  if (typeof value !== "string") return null;
  // Trimmed first: a stray space typed before a stored number is no `+` lost on the way (normalizeCallerNumber).
  const r = normalizeCallerNumber(value.trim().replace(EXTENSION, ""), callerCountry);
  return r.ok ? r.e164 : null;
}

/**
 * Searches that compare national digits (HubSpot's calculated searchable properties,
 * Zendesk's `phone:*<digits>`) also find another country's number with the same digits:
 * +1 551-234-5678 for a caller from +52 55 1234 5678. Of the records the CRM sent, only those
 * holding the caller's own number stay; records the CRM counted but did not send still count,
 * so a match that may not be unique stays ambiguous.
 */
export function sameNumberMatch(records: readonly unknown[], reportedTotal: number | null | undefined, phone: PhoneQuery, storedNumbers: (record: unknown) => unknown[]): LookupResult {
  const callerCountry = parsePhoneNumberFromString(phone.e164)?.country;
  const kept = records.filter((r) => storedNumbers(r).some((v) => storedE164(v, callerCountry) === phone.e164));
  const unseen = Math.max(0, (reportedTotal ?? 0) - records.length);
  // Only records the CRM did not send may be the caller's: who, and whether alone, is unknown, so never a match.
  if (kept.length === 0) return unseen > 0 ? { kind: "record", record: records[0], matches: unseen + 1 } : { kind: "notFound" };
  return { kind: "record", record: kept[0], matches: kept.length + unseen };
}
