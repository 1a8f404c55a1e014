import { z } from "zod";
import { quotaConfig } from "./quota.js";

/**
 * What a config field is to the secrets: a secret itself, or a destination the secrets are sent
 * to. Marked on the schema, so masking, sealing and binding secrets to where they go all read
 * the one place a CRM module declares its fields (worker/connectors/schema-roles.ts walks it).
 * A private registry, not .meta(): these marks are not documentation and stay out of OpenAPI.
 */
export type FieldRole =
  | { role: "secret" }
  /** "origin": scheme, host and port must stay; "url": the whole URL but its fragment (an OAuth token endpoint, a webhook); "name": the value itself (a subdomain). */
  | { role: "destination"; compare: "origin" | "url" | "name" };
export const fieldRoles = z.registry<FieldRole>();

/** A value that is stored encrypted and never shown again; "***" in a PUT keeps the stored one. */
export const SECRET_MASK = "***";
export const secret = z.string().min(1).max(4096).register(fieldRoles, { role: "secret" });

/** Marks where a connector sends its requests: a stored secret stays bound to it. */
export function destination<T extends z.ZodType>(schema: T, compare: "origin" | "url" | "name" = "origin"): T {
  // A clone, so marking a shared schema here does not mark every other use of it.
  const marked = schema.clone() as T;
  fieldRoles.add(marked as z.ZodType, { role: "destination", compare });
  return marked;
}

export const httpAuth = z.discriminatedUnion("type", [
  z.object({ type: z.literal("bearer"), token: secret }).strict(),
  z.object({ type: z.literal("basic"), username: z.string().min(1).max(200), password: secret }).strict(),
  z
    .object({
      type: z.literal("header"),
      name: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, "an HTTP header name"),
      value: secret,
    })
    .strict(),
]);
export type HttpAuth = z.infer<typeof httpAuth>;

export const cachePolicy = z
  .object({
    ttlSeconds: z.number().int().min(0).max(86_400).default(60),
    negativeTtlSeconds: z.number().int().min(0).max(86_400).default(10),
    staleIfErrorSeconds: z.number().int().min(0).max(604_800).default(300),
  })
  .strict();
export type CachePolicy = z.infer<typeof cachePolicy>;

/** Fields every connector kind has (SPEC 4). */
export const commonConnectorFields = {
  timeoutMs: z.number().int().min(50).max(10_000).default(1500),
  cache: cachePolicy.default({ ttlSeconds: 60, negativeTtlSeconds: 10, staleIfErrorSeconds: 300 }),
  /** The CRM API budget this connector may use; absent = the kind's documented default (shared/quota.ts). */
  quota: quotaConfig.optional(),
};

/**
 * Where a found record holds the customer id, for caller-number lookups: the answer carries
 * it so the agent sets the id as if it had been typed. A dot path into the record as the CRM
 * returns it; each kind defaults to its configured id field.
 */
export const idPathField = { idPath: z.string().regex(/^[A-Za-z0-9_$-]{1,100}(\.[A-Za-z0-9_$-]{1,100}){0,9}$/, "a dot path such as properties.customer_id").optional() };

/** An absolute http(s) URL; whether it may be reached is decided at call time (SSRF rules). */
export const crmUrl = z.url({ protocol: /^https?$/ }).max(2000);
/** A CRM's base URL: where its secrets go. */
export const crmBaseUrl = destination(crmUrl);
/** An OAuth token endpoint: the client secret goes there, so the whole URL is bound. */
export const tokenUrl = destination(crmUrl, "url");
