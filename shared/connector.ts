import { z } from "zod";
import { quotaConfig } from "./quota.js";

/** A value that is stored encrypted and never shown again; "***" in a PUT keeps the stored one. */
export const SECRET_MASK = "***";
export const secret = z.string().min(1).max(4096);

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
/** Where httpAuth keeps its secret, whatever its type. */
export const HTTP_AUTH_SECRETS = ["auth.token", "auth.password", "auth.value"];

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

/** An absolute http(s) URL; whether it may be reached is decided at call time (SSRF rules). */
export const crmUrl = z.url({ protocol: /^https?$/ }).max(2000);
