import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, destination, secret } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { freshdeskQuery } from "./escape.js";
import { basicAuth, crmJson, crmShape } from "./http.js";
import { defineConnector } from "./types.js";

const searchReply = z.object({
  results: z.array(z.record(z.string(), z.unknown())),
  total: z.number().int().nonnegative().optional(),
});

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
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict(),
  async lookup(config, ctx) {
    const host = config.domain.endsWith(".freshdesk.com") ? config.domain : `${config.domain}.freshdesk.com`;
    const base = config.baseUrl ?? `https://${host}`;
    const res = await crmRequest(
      joinUrl(base, `/api/v2/search/contacts?${new URLSearchParams({ query: freshdeskQuery(config.field, ctx.customerId) })}`),
      // Freshdesk takes the API key as the user name and any password ("X" in its docs).
      { Authorization: basicAuth(config.apiKey, "X") },
      ctx,
    );
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (res.status === 404) return { kind: "notFound" };
    const reply = crmShape(searchReply, crmJson(res));
    const first = reply.results[0];
    if (!first) return { kind: "notFound" };
    return { kind: "record", record: first, matches: Math.max(reply.total ?? 0, reply.results.length) };
  },
});
