import { z } from "zod";
import { CONTRACT_HEADERS, encodeContractForm, parseContractReply } from "../../shared/contract.js";
import { commonConnectorFields, crmUrl, destination, httpAuth } from "../../shared/connector.js";
import { CrmError, crmStatusError } from "./errors.js";
import { authHeaders, crmFetch } from "./http.js";
import { REPLY_CAP } from "./reply-budget.js";
import { defineConnector } from "./types.js";

/** A CRM that already speaks the OMniLeads contract: sent exactly what CURL() sends (SPEC 2a). */
export const webhook = defineConnector({
  kind: "webhook",
  schema: z
    .object({
      kind: z.literal("webhook"),
      // The whole URL is where the secret goes: on a shared host (a Zapier hook, an Apps Script) the path names the owner.
      url: destination(crmUrl, "url"),
      auth: httpAuth.optional(),
      /**
       * Opt-in: the CRM also takes `callerNumber` (E.164) and answers a number lookup, naming the
       * customer in its reply's idContact. Off, the CRM receives exactly what CURL() sends, and
       * number lookups skip it.
       */
      sendCallerNumber: z.boolean().default(false),
      ...commonConnectorFields,
    })
    .strict(),
  async lookup(config, ctx) {
    if (ctx.callerNumber && !config.sendCallerNumber) throw new CrmError("phone_lookup_unsupported", "this webhook does not take callerNumber");
    const body = ctx.callerNumber ? new URLSearchParams({ idContact: "", callerNumber: ctx.callerNumber.e164 }).toString() : encodeContractForm(ctx.customerId);
    const res = await crmFetch(
      config.url,
      { method: "POST", headers: { ...CONTRACT_HEADERS, ...authHeaders(config.auth) }, body },
      { ...ctx.http, maxBytes: REPLY_CAP.contract },
    );
    if (res.status !== 200) throw crmStatusError(res.status, res.headers, res.text);
    const parsed = parseContractReply(res.text);
    if (!parsed.ok) throw new CrmError("crm_bad_reply", `CRM reply unusable (${parsed.problem})`);
    // An explicit "fail" is the CRM saying it could not decide: a failure, never a "not found".
    if (parsed.reply.status !== "ok") throw new CrmError("crm_status_fail", "CRM answered status fail");
    return { kind: "reply", reply: parsed.reply };
  },
});
