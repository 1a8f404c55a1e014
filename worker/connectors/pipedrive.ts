import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, idPathField, secret } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { crmJson, crmShape } from "./http.js";
import { oauthRefresh, withAccessToken } from "./oauth.js";
import { CrmError } from "./errors.js";
import { defineConnector } from "./types.js";

const searchReply = z.object({
  data: z.object({
    items: z.array(z.object({ item: z.object({ id: z.number().int() }).loose() }).loose()),
  }).loose(),
});
const personReply = z.object({ data: z.record(z.string(), z.unknown()) }).loose();

/** How many search hits are fetched to find one whose own field holds the id. */
const MAX_PERSONS_CHECKED = 3;

/** A custom field's value as v2 returns it: a scalar, or an object with `value` (monetary, etc.). */
function fieldText(v: unknown): string | undefined {
  if (typeof v === "string" || typeof v === "number") return String(v);
  if (v && typeof v === "object" && "value" in v) return fieldText((v as { value: unknown }).value);
  return undefined;
}

/**
 * Pipedrive API v2: search persons by the id across custom fields with exact_match, then
 * read the whole person. Search matches any custom field, so the person's own `field` must
 * hold the id before it counts.
 */
export const pipedrive = defineConnector({
  kind: "pipedrive",
  schema: z
    .object({
      kind: z.literal("pipedrive"),
      baseUrl: crmBaseUrl.default("https://api.pipedrive.com"),
      /** A personal API token; or `oauth`. */
      apiToken: secret.optional(),
      /** Set by "Connect with Pipedrive": the app and its refresh token. */
      oauth: oauthRefresh("https://oauth.pipedrive.com/oauth/token").optional(),
      /** The custom field's key (a 40-character hash for custom fields). */
      field: z.string().regex(/^[A-Za-z0-9_]{1,100}$/, "a Pipedrive field key"),
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict()
    // Neither is a connector saved to be connected next ("Save and connect"): lookups answer crm_auth until then.
    .refine((c) => c.apiToken === undefined || c.oauth === undefined, { message: "either apiToken or oauth, not both", path: ["apiToken"] }),
  async lookup(config, ctx) {
    if (!config.apiToken && !config.oauth) throw new CrmError("crm_auth", "not connected yet: use Connect with Pipedrive on the connector page");
    const oauth = config.oauth;
    // Pipedrive's token endpoint takes the client as HTTP Basic; API calls take the bearer token.
    const get = (url: string) =>
      oauth
        ? withAccessToken(ctx, { ...oauth, clientAuth: "basic" }, { defaultTtlSeconds: 3600 }, (token) => crmRequest(url, { Authorization: `Bearer ${token}` }, ctx))
        : crmRequest(url, { "x-api-token": config.apiToken! }, ctx);
    const phone = ctx.callerNumber;
    // By number: the person search on the phone field, exact match, on the E.164 form.
    const query = new URLSearchParams(phone ? { term: phone.e164, fields: "phone", exact_match: "true", limit: "2" } : { term: ctx.customerId, fields: "custom_fields", exact_match: "true", limit: "10" });
    const found = await get(joinUrl(config.baseUrl, `/api/v2/persons/search?${query}`));
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (found.status === 404) return { kind: "notFound" };
    const search = crmShape(searchReply, crmJson(found));
    const ids = [...new Set(search.data.items.map((i) => i.item.id))];
    if (phone) {
      // Search hits hold only a few fields: the rules and the customer id need the whole person.
      if (ids[0] === undefined) return { kind: "notFound" };
      const res = await get(joinUrl(config.baseUrl, `/api/v2/persons/${ids[0]}`));
      if (res.status === 404) return { kind: "notFound" };
      return { kind: "record", record: crmShape(personReply, crmJson(res)).data, matches: ids.length };
    }
    for (const id of ids.slice(0, MAX_PERSONS_CHECKED)) {
      const res = await get(joinUrl(config.baseUrl, `/api/v2/persons/${id}`));
      // Deleted between the search and the read: try the next hit.
      if (res.status === 404) continue;
      const person = crmShape(personReply, crmJson(res)).data;
      const custom = person.custom_fields;
      const value = custom && typeof custom === "object" ? (custom as Record<string, unknown>)[config.field] : undefined;
      if (fieldText(value) === ctx.customerId) return { kind: "record", record: person, matches: ids.length };
    }
    return { kind: "notFound" };
  },
  defaultIdPath: (config) => `custom_fields.${config.field}`,
});
