import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, idPathField, secret, tokenUrl } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { soqlString, soslTerm } from "./escape.js";
import { crmJson, crmShape } from "./http.js";
import { withAccessToken } from "./oauth.js";
import { sameNumberMatch } from "./phone-match.js";
import { readPath } from "./record.js";
import { rulePaths } from "./rule-paths.js";
import { defineConnector, firstMatch } from "./types.js";

/** An API name: Contact, Customer_Number__c. Checked, because names go into SOQL unquoted. */
const apiName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, "a Salesforce API name");
/** A field or relationship path: Plan__c, Account.Plan__c. */
const fieldPath = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$/, "a Salesforce field path");

const auth = z.discriminatedUnion("type", [
  z.object({ type: z.literal("bearer"), token: secret }).strict(),
  z
    .object({
      type: z.literal("oauth"),
      /** The org's My Domain token endpoint, or login.salesforce.com / test.salesforce.com. */
      tokenUrl: tokenUrl.default("https://login.salesforce.com/services/oauth2/token"),
      clientId: z.string().min(1).max(500),
      clientSecret: secret,
      /** Present: the refresh-token flow; absent: the client-credentials flow. */
      refreshToken: secret.optional(),
    })
    .strict(),
]);

const searchReply = z.object({ searchRecords: z.array(z.record(z.string(), z.unknown())) });

const queryReply = z.object({
  totalSize: z.number().int().nonnegative(),
  records: z.array(z.record(z.string(), z.unknown())),
});

// Salesforce's token reply carries no expires_in; the session timeout is at least 15 minutes.
const SALESFORCE_TOKEN_TTL_SECONDS = 900;

/** Fields to SELECT: Id, the id field, the configured ones and those the rules read. */
export function soqlFields(idField: string, fields: readonly string[] | undefined, rules: Parameters<typeof rulePaths>[0]): string[] {
  const fromRules = rulePaths(rules).filter((p) => fieldPath.safeParse(p).success && !p.startsWith("attributes"));
  const out = new Map<string, string>();
  for (const f of ["Id", idField, ...(fields ?? []), ...fromRules]) if (!out.has(f.toLowerCase())) out.set(f.toLowerCase(), f);
  return [...out.values()];
}

/**
 * The phone fields of the objects callers are usually kept in, which a number match is checked
 * against. Only the two every profile reads: a field the integration user may not see makes SOSL
 * fail the whole search (INVALID_FIELD), so HomePhone, OtherPhone and custom ones go in `fields`.
 */
const STANDARD_PHONE_FIELDS: Record<string, readonly string[]> = {
  Contact: ["Phone", "MobilePhone"],
  Lead: ["Phone", "MobilePhone"],
  Account: ["Phone"],
};

/** Salesforce REST `query` with SOQL; LIMIT 2 is enough to know whether the match was unique. */
export const salesforce = defineConnector({
  kind: "salesforce",
  schema: z
    .object({
      kind: z.literal("salesforce"),
      /** https://<my-domain>.my.salesforce.com */
      instanceUrl: crmBaseUrl,
      apiVersion: z.string().regex(/^v\d{2,3}\.0$/, "such as v60.0").default("v60.0"),
      sobject: apiName,
      idField: apiName,
      fields: z.array(fieldPath).max(100).optional(),
      auth,
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict(),
  async lookup(config, ctx) {
    const phone = ctx.callerNumber;
    // A number match is read back to check it is the caller's number (sameNumberMatch): the
    // object's standard phone fields and the configured `fields`, where custom phone fields go.
    const phoneFields = [...(STANDARD_PHONE_FIELDS[config.sobject] ?? []), ...(config.fields ?? [])];
    const fields = soqlFields(config.idField, phone ? phoneFields : config.fields, config.rules).join(", ");
    // By number: SOSL's phone-field search, which compares digits and ignores formatting; the
    // national number matches "(415) 555-1212" and "+1 415 555 1212" alike. LIMIT 2: unique or not.
    const url = phone
      ? joinUrl(config.instanceUrl, `/services/data/${config.apiVersion}/search?${new URLSearchParams({ q: `FIND {${soslTerm(phone.national)}} IN PHONE FIELDS RETURNING ${config.sobject}(${fields}) LIMIT 2` })}`)
      : joinUrl(config.instanceUrl, `/services/data/${config.apiVersion}/query?${new URLSearchParams({ q: `SELECT ${fields} FROM ${config.sobject} WHERE ${config.idField} = ${soqlString(ctx.customerId)} LIMIT 2` })}`);
    const call = (token: string) => crmRequest(url, { Authorization: `Bearer ${token}` }, ctx);
    const a = config.auth;
    const res =
      a.type === "bearer"
        ? await call(a.token)
        : await withAccessToken(ctx, { tokenUrl: a.tokenUrl, clientId: a.clientId, clientSecret: a.clientSecret, refreshToken: a.refreshToken }, { defaultTtlSeconds: SALESFORCE_TOKEN_TTL_SECONDS }, call);
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (res.status === 404) return { kind: "notFound" };
    if (phone) {
      const found = crmShape(searchReply, crmJson(res)).searchRecords;
      // Nothing to read the numbers back from (a custom object and no `fields`): SOSL's match stands.
      if (phoneFields.length === 0) return found[0] ? { kind: "record", record: found[0], matches: found.length } : { kind: "notFound" };
      // SOSL gives no total: a full page (LIMIT 2) may have more behind it.
      return sameNumberMatch(found, found.length + (found.length >= 2 ? 1 : 0), phone, (r) => phoneFields.map((f) => readPath(r, f)));
    }
    const reply = crmShape(queryReply, crmJson(res));
    return firstMatch(reply.records, reply.totalSize);
  },
  defaultIdPath: (config) => config.idField,
});
