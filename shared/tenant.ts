import { z } from "zod";
import { countryCode } from "./phone.js";

/** An IANA zone name the runtime knows (Europe/Madrid, America/Argentina/Buenos_Aires, UTC): Intl is the judge. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
export const timeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, { message: "not an IANA time zone name such as Europe/Madrid" });

/**
 * `timeZone` left out keeps the tenant's current one (UTC for a new tenant). `defaultCountry`
 * reads national caller numbers for every node that sets none of its own: left out keeps the
 * current one, null removes it.
 */
export const tenantInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    timeZone: timeZone.optional(),
    defaultCountry: countryCode
      .nullable()
      .optional()
      .describe("ISO 3166-1 alpha-2 (ES): national caller numbers are read in it on nodes without their own defaultCountry; null removes it, left out keeps it"),
  })
  .strict();
export type TenantInput = z.infer<typeof tenantInput>;

export const role = z.enum(["admin", "agent"]);
export type Role = z.infer<typeof role>;

export const keyInput = z.object({ role }).strict();
export const createdKey = z.object({ id: z.string(), key: z.string(), role });
export const keyInfo = z.object({
  id: z.string(),
  role,
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type KeyInfo = z.infer<typeof keyInfo>;
