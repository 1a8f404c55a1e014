import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, destination, idPathField, secret } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { CrmError } from "./errors.js";
import { zendeskQuery } from "./escape.js";
import { basicAuth, crmJson, crmShape } from "./http.js";
import { oauthRefresh, withAccessToken } from "./oauth.js";
import { sameNumberMatch } from "./phone-match.js";
import { readPath } from "./record.js";
import { defineConnector, firstMatch } from "./types.js";

/** Digits only, or refused: the search syntax has no quoting for a bare phone term. */
function zendeskPhoneDigits(digits: string): string {
  if (!/^[0-9]{1,20}$/.test(digits)) throw new CrmError("invalid_query_value", "a phone search takes digits only");
  return digits;
}

const usersReply = z.object({
  users: z.array(z.record(z.string(), z.unknown())),
  count: z.number().int().nonnegative().nullish(),
});

/**
 * Zendesk Support users search: `external_id=` when the id is the user's external id (no
 * search syntax involved), otherwise `query=<user field key>:"<id>"`.
 */
export const zendesk = defineConnector({
  kind: "zendesk",
  schema: z
    .object({
      kind: z.literal("zendesk"),
      subdomain: destination(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "the <subdomain> of <subdomain>.zendesk.com"), "name"),
      /** Overrides https://<subdomain>.zendesk.com (a host mapping, tests). */
      baseUrl: crmBaseUrl.optional(),
      /** API token auth (email + apiToken); or `oauth`. */
      email: z.string().min(3).max(254).optional(),
      apiToken: secret.optional(),
      /** Set by "Connect with Zendesk": the app and its refresh token (tokenUrl: https://<subdomain>.zendesk.com/oauth/tokens). */
      oauth: oauthRefresh().optional(),
      field: z.string().regex(/^[A-Za-z0-9_]{1,100}$/, "external_id or a user field key").default("external_id"),
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict()
    // Neither is a connector saved to be connected next ("Save and connect"): lookups answer crm_auth until then.
    .refine((c) => (c.email === undefined) === (c.apiToken === undefined) && (c.oauth === undefined || c.email === undefined), {
      message: "either email and apiToken, or oauth",
      path: ["apiToken"],
    }),
  async lookup(config, ctx) {
    if (!config.apiToken && !config.oauth) throw new CrmError("crm_auth", "not connected yet: use Connect with Zendesk on the connector page");
    const base = config.baseUrl ?? `https://${config.subdomain}.zendesk.com`;
    // By number: Zendesk documents `phone:*<digits>` (no "+", no formatting; the leading * matches
    // the number however it was stored) for finding a caller, on the national number.
    const query: Record<string, string> = ctx.callerNumber
      ? { query: `role:end-user phone:*${zendeskPhoneDigits(ctx.callerNumber.national)}` }
      : config.field === "external_id"
        ? { external_id: ctx.customerId }
        : { query: zendeskQuery(config.field, ctx.customerId) };
    const url = joinUrl(base, `/api/v2/users/search?${new URLSearchParams(query)}`);
    const res = config.oauth
      ? await withAccessToken(ctx, config.oauth, { defaultTtlSeconds: 3600 }, (token) => crmRequest(url, { Authorization: `Bearer ${token}` }, ctx))
      : // API token auth: Basic with "{email}/token" as the user name.
        await crmRequest(url, { Authorization: basicAuth(`${config.email}/token`, config.apiToken!) }, ctx);
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (res.status === 404) return { kind: "notFound" };
    const reply = crmShape(usersReply, crmJson(res));
    if (ctx.callerNumber) return sameNumberMatch(reply.users, reply.count, ctx.callerNumber, (u) => [readPath(u, "phone")]);
    return firstMatch(reply.users, reply.count);
  },
  defaultIdPath: (config) => (config.field === "external_id" ? "external_id" : `user_fields.${config.field}`),
});
