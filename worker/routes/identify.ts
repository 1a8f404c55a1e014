import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { contractReply, contractRequest } from "../../shared/contract.js";
import type { AppEnv } from "../env.js";
import { documented, ok, security, tenantParam } from "../http/documented.js";
import { identify } from "../services/identify.js";

const params = tenantParam.extend({ node: z.string() });

export function identifyRoutes(app: OpenAPIHono<AppEnv>) {
  documented(
    app,
    {
      method: "post",
      path: "/v1/tenants/{tenant}/nodes/{node}/identify",
      summary: "The OMniLeads CRM contract: idContact or callerNumber in, {status, destination} out",
      description:
        "Accepts the form POST of Asterisk's CURL() (idContact=<digits>), a JSON body, multipart, or text/plain holding either. An agent key (never an admin key: 403 admin_key_in_url) may come as ?key=. CRM trouble is a 200 with status fail and X-Bridge-Reason, never a 5xx. " +
        "callerNumber (crm-bridge's extension) looks the customer up by phone: normalized to E.164 (the node's defaultCountry, else the tenant's, reads national numbers; tel:/sip: URIs and name-addrs are read for their number; a space then digits, which is what an unencoded + becomes in a form body, is read as +digits unless the digits are also a different national number, then unusable); withheld or invalid numbers are fail with X-Bridge-Reason caller_number_unusable and no CRM call; two customers with the number are fail/ambiguous; no match is fail/caller_number_not_found. A match is answered by the node's mode as if the customer had typed their id, and the reply's idContact is that id (when the record holds one). With both fields, the id is looked up when the number does not identify exactly one customer.",
      security,
      request: {
        params,
        query: z.object({ key: z.string().optional() }),
        headers: z.object({ "x-deadline-ms": z.string().optional() }),
        body: {
          required: true,
          content: {
            "application/x-www-form-urlencoded": { schema: contractRequest },
            "application/json": { schema: contractRequest },
            "text/plain": { schema: z.string() },
          },
        },
      },
      responses: { 200: ok(contractReply, "The decision; see X-Cache, X-Bridge-Reason, Server-Timing"), 413: ok(z.any(), "Body too large"), 415: ok(z.any(), "Unsupported content type") },
    },
    identifyRoute,
  );
}

/** The identify answer as HTTP: the decision as JSON, how it was reached in headers. */
async function identifyRoute(c: Context<AppEnv>) {
  const a = await identify(c);
  c.header("X-Cache", a.cache);
  if (a.reason) c.header("X-Bridge-Reason", a.reason);
  c.header("Server-Timing", a.timing);
  c.header("Cache-Control", "no-store");
  return c.json(a.reply, 200);
}
