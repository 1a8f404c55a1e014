import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, idPathField, secret, tokenUrl } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { CrmError } from "./errors.js";
import { zohoCriteriaValue } from "./escape.js";
import { crmJson, crmShape } from "./http.js";
import { withAccessToken } from "./oauth.js";
import { defineConnector, firstMatch } from "./types.js";

const apiName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,99}$/, "a Zoho API name");

const searchReply = z.object({
  data: z.array(z.record(z.string(), z.unknown())),
  info: z.object({ count: z.number().int().nonnegative().optional() }).loose().optional(),
});

/**
 * Zoho CRM v6 `search` with a criteria expression; access tokens come from the accounts
 * server of the org's data centre (.com, .eu, .in, …) by refresh token.
 */
export const zoho = defineConnector({
  kind: "zoho",
  schema: z
    .object({
      kind: z.literal("zoho"),
      /** The api_domain of the org's data centre. */
      apiDomain: crmBaseUrl.default("https://www.zohoapis.com"),
      accountsUrl: tokenUrl.default("https://accounts.zoho.com"),
      module: apiName,
      idField: apiName,
      clientId: z.string().min(1).max(500),
      clientSecret: secret,
      /** Absent until "Connect with Zoho" obtained it; lookups answer crm_auth meanwhile. */
      refreshToken: secret.optional(),
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict(),
  async lookup(config, ctx) {
    if (!config.refreshToken) throw new CrmError("crm_auth", "not connected yet: use Connect with Zoho on the connector page");
    // By number: the search API's own `phone` parameter, which searches every phone field of the module.
    const query: Record<string, string> = ctx.callerNumber ? { phone: ctx.callerNumber.e164, per_page: "2" } : { criteria: `(${config.idField}:equals:${zohoCriteriaValue(ctx.customerId)})` };
    const url = joinUrl(config.apiDomain, `/crm/v6/${config.module}/search?${new URLSearchParams(query)}`);
    const res = await withAccessToken(
      ctx,
      { tokenUrl: joinUrl(config.accountsUrl, "/oauth/v2/token"), clientId: config.clientId, clientSecret: config.clientSecret, refreshToken: config.refreshToken },
      { defaultTtlSeconds: 3600 },
      (token) => crmRequest(url, { Authorization: `Zoho-oauthtoken ${token}` }, ctx),
    );
    // Zoho answers a search with no match as 204 No Content, with no body at all.
    if (res.status === 204) return { kind: "notFound" };
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (res.status === 404) return { kind: "notFound" };
    const reply = crmShape(searchReply, crmJson(res));
    return firstMatch(reply.data, reply.info?.count);
  },
  defaultIdPath: (config) => config.idField,
});
