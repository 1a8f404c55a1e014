import { z } from "zod";

/** Tenant, node and connector ids share one slug shape (SPEC 1). */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const slug = z.string().regex(SLUG_PATTERN, "lower-case letters, digits and '-', 1–63 chars, not starting with '-'");
export type Slug = z.infer<typeof slug>;

/** The digits a caller typed: the only customer id ever sent anywhere (SPEC 4). */
export const CUSTOMER_ID_PATTERN = /^[0-9]{1,30}$/;
export const customerId = z.string().regex(CUSTOMER_ID_PATTERN, "1 to 30 digits");

export function isValidCustomerId(id: string, expectedLength?: number | null): boolean {
  return CUSTOMER_ID_PATTERN.test(id) && (expectedLength == null || id.length === expectedLength);
}

/** Logs and the decisions page never show more than the last 2 digits. */
export function maskId(id: string): string {
  if (id.length <= 2) return "*".repeat(id.length);
  return "*".repeat(id.length - 2) + id.slice(-2);
}

/** SPEC 8: an empty "Id" field is derived from the name. */
export function slugFromName(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
}
