import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { connectorUsage } from "../../shared/quota.js";
import { connectorConfig } from "../connectors/registry.js";
import type { AppEnv } from "../env.js";
import { requireAuth } from "../http/auth.js";
import { documented, jsonBody, ok, security, tenantParam } from "../http/documented.js";
import * as connectors from "../services/connectors.js";
import { serviceContext as svc } from "../services/context.js";
import { readJson, savedStatus } from "./read-json.js";

const params = tenantParam.extend({ connector: z.string() });

export function connectorRoutes(app: OpenAPIHono<AppEnv>) {
  const admin = requireAuth(["admin"]);
  documented(
    app,
    {
      method: "put",
      path: "/v1/tenants/{tenant}/connectors/{connector}",
      summary: 'Create or replace a connector; secrets are write-only ("***" keeps the stored one)',
      description: 'A stored secret stays bound to where it was entered: moving a destination field (url, baseUrl, tokenUrl…) or the kind while a secret is "***" is 400 secret_required, naming the secrets to type again.',
      security,
      request: { params, ...jsonBody(connectorConfig) },
      responses: { 200: ok(connectorConfig, "Replaced (secrets masked)"), 201: ok(connectorConfig, "Created (secrets masked)"), 409: ok(z.any(), "conflict") },
    },
    admin,
    async (c) => {
      const r = await connectors.putConnector(svc(c), c.req.param("tenant")!, connectors.parseConnectorId(c.req.param("connector")), await readJson(c.req.raw));
      return c.json(r.connector, savedStatus(r));
    },
  );
  documented(
    app,
    { method: "get", path: "/v1/tenants/{tenant}/connectors", summary: "List connectors (secrets masked)", security, request: { params: tenantParam }, responses: { 200: ok(z.object({ connectors: z.array(connectorConfig) })) } },
    admin,
    async (c) => c.json({ connectors: await connectors.listConnectors(svc(c), c.req.param("tenant")!) }),
  );
  documented(
    app,
    { method: "get", path: "/v1/tenants/{tenant}/connectors/{connector}", summary: "One connector (secrets masked)", security, request: { params }, responses: { 200: ok(connectorConfig) } },
    admin,
    async (c) => c.json(await connectors.getConnector(svc(c), c.req.param("tenant")!, c.req.param("connector")!)),
  );
  documented(
    app,
    {
      method: "get",
      path: "/v1/tenants/{tenant}/connectors/{connector}/usage",
      summary: "The connector's CRM quota use: calls in the current window against the limit, daily use, calls shed in the last hour, the last 429",
      security,
      request: { params },
      responses: { 200: ok(connectorUsage) },
    },
    admin,
    async (c) => c.json(await connectors.connectorUsage(svc(c), c.req.param("tenant")!, c.req.param("connector")!)),
  );
  documented(
    app,
    {
      method: "delete",
      path: "/v1/tenants/{tenant}/connectors/{connector}",
      summary: "Delete a connector; 409 while a node uses it",
      security,
      request: { params },
      responses: { 204: { description: "Deleted" } },
    },
    admin,
    async (c) => {
      await connectors.deleteConnector(svc(c), c.req.param("tenant")!, c.req.param("connector")!);
      return c.body(null, 204);
    },
  );
}
