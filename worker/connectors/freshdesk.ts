import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, destination, idPathField, secret } from "../../shared/connector.js";
import type { PhoneQuery } from "../../shared/phone.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { freshdeskQuery, freshdeskTerm } from "./escape.js";
import { basicAuth, crmJson, crmShape } from "./http.js";
import { defineConnector, firstMatch } from "./types.js";

const searchReply = z.object({
  results: z.array(z.record(z.string(), z.unknown())),
  total: z.number().int().nonnegative().optional(),
});

/**
 * Freshdesk's filter compares phone and mobile as stored, character for character, so the
 * number is asked in the unformatted forms it is commonly stored in: E.164, international
 * digits and national digits. A number stored with spaces or dashes is not found (docs/connectors.md).
 */
function freshdeskPhoneQuery(phone: PhoneQuery): string {
  const forms = [...new Set([phone.e164, phone.digits, phone.national])];
  return `"${["phone", "mobile"].flatMap((f) => forms.map((v) => freshdeskTerm(f, v))).join(" OR ")}"`;
}

/** Freshdesk API v2 contact search with its query language; the API key is the Basic user name. */
export const freshdesk = defineConnector({
  kind: "freshdesk",
  schema: z
    .object({
      kind: z.literal("freshdesk"),
      /** "acme" or "acme.freshdesk.com". */
      domain: destination(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}(\.freshdesk\.com)?$/, "the <domain> of <domain>.freshdesk.com"), "name"),
      /** Overrides https://<domain>.freshdesk.com (a host mapping, tests). */
      baseUrl: crmBaseUrl.optional(),
      apiKey: secret,
      /** A contact field name as the search API knows it (custom fields without the cf_ prefix). */
      field: z.string().regex(/^[a-z0-9_]{1,100}$/, "a Freshdesk contact field name"),
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict(),
  async lookup(config, ctx) {
    const host = config.domain.endsWith(".freshdesk.com") ? config.domain : `${config.domain}.freshdesk.com`;
    const base = config.baseUrl ?? `https://${host}`;
    const res = await crmRequest(
      joinUrl(base, `/api/v2/search/contacts?${new URLSearchParams({ query: ctx.callerNumber ? freshdeskPhoneQuery(ctx.callerNumber) : freshdeskQuery(config.field, ctx.customerId) })}`),
      // Freshdesk takes the API key as the user name and any password ("X" in its docs).
      { Authorization: basicAuth(config.apiKey, "X") },
      ctx,
    );
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (res.status === 404) return { kind: "notFound" };
    const reply = crmShape(searchReply, crmJson(res));
    return firstMatch(reply.results, reply.total);
  },
  // Custom fields come back under custom_fields; a standard field (unique_external_id) at the top.
  defaultIdPath: (config) => (config.field === "unique_external_id" ? "unique_external_id" : `custom_fields.${config.field}`),
});
