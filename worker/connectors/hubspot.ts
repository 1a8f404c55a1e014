import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, idPathField, secret } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { crmJson, crmShape } from "./http.js";
import { oauthRefresh, withAccessToken } from "./oauth.js";
import { sameNumberMatch } from "./phone-match.js";
import { readPath } from "./record.js";
import { rulePaths } from "./rule-paths.js";
import { CrmError } from "./errors.js";
import { defineConnector, firstMatch } from "./types.js";

// HubSpot property internal names are lower-case letters, digits and underscores.
const propertyName = z.string().regex(/^[a-z0-9_]{1,100}$/, "a HubSpot property internal name");

/** The stored numbers a number lookup searches: the calculated searchable properties are derived from these. */
const PHONE_PROPERTIES = ["phone", "mobilephone"];

const searchReply = z.object({
  total: z.number().int().nonnegative().optional(),
  results: z.array(z.record(z.string(), z.unknown())),
});

/**
 * HubSpot CRM v3 object search: one filter group holding one EQ filter on the id property.
 * The value travels as a JSON string in the body, so no query syntax is involved.
 */
export const hubspot = defineConnector({
  kind: "hubspot",
  schema: z
    .object({
      kind: z.literal("hubspot"),
      baseUrl: crmBaseUrl.default("https://api.hubapi.com"),
      /** A private-app access token (or an OAuth access token managed elsewhere); or `oauth`. */
      accessToken: secret.optional(),
      /** Set by "Connect with HubSpot": the app and its refresh token. */
      oauth: oauthRefresh("https://api.hubapi.com/oauth/v1/token").optional(),
      /** contacts, companies, deals, tickets, or a custom object type id such as 2-123456. */
      object: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/).default("contacts"),
      idProperty: propertyName,
      /** Properties to return besides those the rules read (HubSpot returns only a default few). */
      properties: z.array(propertyName).max(100).optional(),
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict()
    // Neither is a connector saved to be connected next ("Save and connect"): lookups answer crm_auth until then.
    .refine((c) => c.accessToken === undefined || c.oauth === undefined, { message: "either accessToken or oauth, not both", path: ["accessToken"] }),
  async lookup(config, ctx) {
    if (!config.accessToken && !config.oauth) throw new CrmError("crm_auth", "not connected yet: use Connect with HubSpot on the connector page");
    // Search returns only default properties unless asked: ask for every one the rules read.
    const fromRules = rulePaths(config.rules)
      .map((p) => /^properties\.([a-z0-9_]+)/.exec(p)?.[1])
      .filter((p): p is string => p !== undefined);
    const phone = ctx.callerNumber;
    // A number lookup reads the stored numbers back to check the match is the caller's (sameNumberMatch).
    const properties = [...new Set([config.idProperty, ...(config.properties ?? []), ...fromRules, ...(phone ? PHONE_PROPERTIES : [])])];
    // By number: phone and mobilephone as stored in E.164, or HubSpot's calculated searchable
    // phone properties (digits only, country code removed), which match however the number was typed in.
    // Filter groups are ORed; limit 2 and `total` say whether the match was unique.
    const filterGroups = phone
      ? [
          ...["phone", "mobilephone"].map((p) => ({ filters: [{ propertyName: p, operator: "EQ", value: phone.e164 }] })),
          ...["hs_searchable_calculated_phone_number", "hs_searchable_calculated_mobile_number"].map((p) => ({ filters: [{ propertyName: p, operator: "EQ", value: phone.national }] })),
        ]
      : [{ filters: [{ propertyName: config.idProperty, operator: "EQ", value: ctx.customerId }] }];
    const call = (token: string) =>
      crmRequest(
        joinUrl(config.baseUrl, `/crm/v3/objects/${config.object}/search`),
        { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        ctx,
        {
          method: "POST",
          body: JSON.stringify({
            filterGroups,
            properties,
            limit: phone ? 2 : 1,
          }),
        },
      );
    // HubSpot access tokens live 30 minutes (expires_in says so; this is only the fallback).
    const res = config.oauth ? await withAccessToken(ctx, config.oauth, { defaultTtlSeconds: 1800 }, call) : await call(config.accessToken!);
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (res.status === 404) return { kind: "notFound" };
    const reply = crmShape(searchReply, crmJson(res));
    if (phone) return sameNumberMatch(reply.results, reply.total, phone, (r) => PHONE_PROPERTIES.map((p) => readPath(r, `properties.${p}`)));
    return firstMatch(reply.results, reply.total);
  },
  defaultIdPath: (config) => `properties.${config.idProperty}`,
});
