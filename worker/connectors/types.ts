import type { z } from "zod";
import type { ContractReply } from "../../shared/contract.js";
import type { PhoneQuery } from "../../shared/phone.js";
import type { CrmFetchOptions } from "./http.js";
import { destinationPatterns, secretPatterns } from "./schema-roles.js";

/** What one connector's lookup of a customer id found. */
export type LookupResult =
  /** A CRM record; the connector's rules turn it into a decision. `matches` is how many records matched. */
  | { kind: "record"; record: unknown; matches: number }
  | { kind: "notFound" }
  /** A CRM that speaks the contract itself (webhook) decided already. */
  | { kind: "reply"; reply: ContractReply };

/** A search reply's first record, with how many the CRM says matched (never fewer than it sent). */
export function firstMatch(records: readonly unknown[], reportedTotal: number | null | undefined): LookupResult {
  if (records.length === 0 || records[0] === undefined) return { kind: "notFound" };
  return { kind: "record", record: records[0], matches: Math.max(reportedTotal ?? 0, records.length) };
}

export interface LookupContext {
  tenant: string;
  connectorId: string;
  /** Validated digits; "" when the lookup is by caller number. */
  customerId: string;
  /** Present: look the customer up by this caller number (phone fields) instead of by id. */
  callerNumber?: PhoneQuery;
  http: Omit<CrmFetchOptions, "maxBytes">;
}

/**
 * The connector seam: one module per CRM kind, holding its config schema and its lookup.
 * Adding a CRM is adding one module to the registry. Which fields are secrets and which say
 * where they go is marked on the schema (`secret`, `destination`) and read from it here.
 */
export interface ConnectorModule<S extends z.ZodType<{ kind: string }> = z.ZodType<{ kind: string }>> {
  kind: string;
  schema: S;
  /** Dot paths of secret fields (`headers.*` = every value under headers), from the schema. */
  secrets: readonly string[];
  /** Fields saying where the secrets are sent, from the schema. */
  destinations: ReadonlyArray<{ pattern: string; compare: "origin" | "url" | "name" }>;
  lookup(config: z.infer<S>, ctx: LookupContext): Promise<LookupResult>;
  /** Where a record holds the customer id when `idPath` is not configured (caller-number lookups). */
  defaultIdPath?(config: z.infer<S>): string;
}

export function defineConnector<S extends z.ZodType<{ kind: string }>>(m: Omit<ConnectorModule<S>, "secrets" | "destinations">): ConnectorModule<S> {
  return { ...m, secrets: secretPatterns(m.schema), destinations: destinationPatterns(m.schema) };
}
