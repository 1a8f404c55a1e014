import { z } from "zod";
import { commonConnectorFields, crmBaseUrl, idPathField, secret, tokenUrl } from "../../shared/connector.js";
import { ruleSet } from "../../shared/rules.js";
import { crmRequest, joinUrl } from "./crm-call.js";
import { odataString } from "./escape.js";
import { crmJson, crmShape } from "./http.js";
import { withAccessToken } from "./oauth.js";
import { rulePaths } from "./rule-paths.js";
import { defineConnector, firstMatch } from "./types.js";

const odataName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/, "an OData name");

const collectionReply = z
  .object({
    "@odata.count": z.number().int().nonnegative().optional(),
    value: z.array(z.record(z.string(), z.unknown())),
  })
  .loose();

/**
 * Dynamics 365 (Dataverse) Web API: an OData $filter eq on the id column, $top=1 and
 * $count=true (the count says how many matched), with an app-only token from client credentials.
 */
export const dynamics365 = defineConnector({
  kind: "dynamics365",
  schema: z
    .object({
      kind: z.literal("dynamics365"),
      /** https://<org>.crm<N>.dynamics.com */
      orgUrl: crmBaseUrl,
      apiVersion: z.string().regex(/^v\d{1,2}\.\d{1,2}$/, "such as v9.2").default("v9.2"),
      entitySet: odataName.default("contacts"),
      idField: odataName,
      select: z.array(odataName).max(100).optional(),
      /** https://login.microsoftonline.com/<tenant id>/oauth2/v2.0/token */
      tokenUrl,
      clientId: z.string().min(1).max(500),
      clientSecret: secret,
      /** Set by "Connect with Dynamics 365": delegated access as the consenting user instead of the app's own. */
      refreshToken: secret.optional(),
      /** Defaults to "<orgUrl>/.default". */
      scope: z.string().min(1).max(500).optional(),
      ...idPathField,
      ...commonConnectorFields,
      ...ruleSet,
    })
    .strict(),
  async lookup(config, ctx) {
    const phone = ctx.callerNumber;
    // By number: eq on the telephone columns, which compares the stored text exactly; asked in
    // the unformatted forms numbers are commonly stored in (formatted ones are not found). $top=2: unique or not.
    const filter = phone
      ? [...new Set([phone.e164, phone.digits, phone.national])].flatMap((v) => ["telephone1", "mobilephone"].map((col) => `${col} eq ${odataString(v)}`)).join(" or ")
      : `${config.idField} eq ${odataString(ctx.customerId)}`;
    const params = [`$filter=${encodeURIComponent(filter)}`, phone ? "$top=2" : "$top=1", "$count=true"];
    if (config.select) {
      // $select narrows the columns; the rules' columns must survive it.
      const fromRules = rulePaths(config.rules)
        .map((p) => p.split(".")[0]!)
        .filter((p) => odataName.safeParse(p).success);
      params.push(`$select=${[...new Set([...config.select, ...fromRules])].join(",")}`);
    }
    const url = joinUrl(config.orgUrl, `/api/data/${config.apiVersion}/${config.entitySet}?${params.join("&")}`);
    const res = await withAccessToken(
      ctx,
      { tokenUrl: config.tokenUrl, clientId: config.clientId, clientSecret: config.clientSecret, refreshToken: config.refreshToken, scope: config.scope ?? `${new URL(config.orgUrl).origin}/.default` },
      { defaultTtlSeconds: 3600 },
      (token) => crmRequest(url, { Authorization: `Bearer ${token}`, "OData-MaxVersion": "4.0", "OData-Version": "4.0" }, ctx),
    );
    // A 404 from the CRM means no such customer, as for the rest connector.
    if (res.status === 404) return { kind: "notFound" };
    const reply = crmShape(collectionReply, crmJson(res));
    return firstMatch(reply.value, reply["@odata.count"]);
  },
  defaultIdPath: (config) => config.idField,
});
