import { z } from "zod";
import { fieldRoles, type FieldRole } from "../../shared/connector.js";

/** A field pattern ("auth.token", "headers.*") and what it is to the secrets. */
export type RoledPattern = { pattern: string; role: FieldRole };

/**
 * Every field of a config schema marked in `fieldRoles`, as dot patterns: `*` stands for any
 * key of a record, and the branches of a union all count (a path exists in one of them).
 */
export function schemaRoles(schema: z.ZodType): RoledPattern[] {
  const out = new Map<string, RoledPattern>();
  const walk = (s: z.ZodType, at: string[]) => {
    const role = fieldRoles.get(s);
    if (role && at.length) out.set(at.join("."), { pattern: at.join("."), role });
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) walk(s.unwrap() as z.ZodType, at);
    else if (s instanceof z.ZodObject) for (const [k, v] of Object.entries(s.shape)) walk(v as z.ZodType, [...at, k]);
    else if (s instanceof z.ZodUnion) for (const o of s.options) walk(o as z.ZodType, at);
    else if (s instanceof z.ZodRecord) walk(s.valueType as z.ZodType, [...at, "*"]);
  };
  walk(schema, []);
  return [...out.values()];
}

/** Dot patterns of the schema's secret fields. */
export const secretPatterns = (schema: z.ZodType): string[] => schemaRoles(schema).filter((r) => r.role.role === "secret").map((r) => r.pattern);

/** Dot patterns of the fields saying where requests go, with how each is compared. */
export const destinationPatterns = (schema: z.ZodType) =>
  schemaRoles(schema).flatMap((r) => (r.role.role === "destination" ? [{ pattern: r.pattern, compare: r.role.compare }] : []));
