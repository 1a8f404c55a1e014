import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../env.js";
import { requireAuth } from "../http/auth.js";
import { documented, errorBody, jsonBody, ok, security, tenantParam } from "../http/documented.js";
import { testConnector, testReply, testRequest } from "../services/connectors.js";
import { serviceContext as svc } from "../services/context.js";
import { readJson } from "./read-json.js";

const params = tenantParam.extend({ connector: z.string() });

export function connectorTestRoutes(app: OpenAPIHono<AppEnv>) {
  documented(
    app,
    {
      method: "post",
      path: "/v1/tenants/{tenant}/connectors/{connector}/test",
      summary: "Run a connector's lookup for one id, without the cache, and show how its rules decided",
      description:
        "Answers 200 whether or not the CRM answered: { ok: false, reason } when it failed. The record is never returned whole: only the fields the rules read. With callerNumber instead of idContact, runs the phone lookup (400 caller_number_unusable for a withheld or invalid number) and shows the matched customer's id masked. The test spends the connector's CRM quota like a live call: with no token free now, 429 crm_quota with Retry-After, and the CRM is not called.",
      security,
      request: { params, ...jsonBody(testRequest) },
      responses: { 200: ok(testReply, "What the lookup found and decided"), 429: ok(errorBody, "crm_quota: the connector's CRM quota has no token now (see Retry-After); the CRM was not called") },
    },
    requireAuth(["admin"]),
    async (c) => c.json(await testConnector(svc(c), c.req.param("tenant")!, c.req.param("connector")!, await readJson(c.req.raw))),
  );
}
