import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { slug } from "../../shared/ids.js";
import { connectorUsage, effectiveQuota } from "../../shared/quota.js";
import { connectorUsageOf, quotaUsage } from "../quota/client.js";
import { connectorConfig } from "../connectors/registry.js";
import type { AppEnv } from "../env.js";
import { requireAuth } from "../http/auth.js";
import { documented, jsonBody, ok, security, tenantParam } from "../http/documented.js";
import { ApiError, notFound } from "../http/errors.js";
import { deleteConnector, getMaskedConnector, listMaskedConnectors, putConnector, sealingKeys } from "../store/connectors.js";
import { readJson } from "./read-json.js";

const params = tenantParam.extend({ connector: z.string() });

function connectorId(raw: string | undefined): string {
  const id = slug.safeParse(raw);
  if (!id.success) throw new ApiError(400, "invalid_connector_id", "connector ids are lower-case letters, digits and '-'");
  return id.data;
}

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
      const id = connectorId(c.req.param("connector"));
      const r = await putConnector(c.env.DB, sealingKeys(c.env), c.req.param("tenant")!, id, await readJson(c.req.raw));
      // Wakes the connector's guard object now, so that the first identify does not pay for its start.
      await quotaUsage(c.env, c.req.param("tenant")!, id, effectiveQuota(r.config)).catch(() => null);
      return c.json({ id, ...r.config }, r.created ? 201 : 200);
    },
  );
  documented(
    app,
    {
      method: "get",
      path: "/v1/tenants/{tenant}/connectors",
      summary: "List connectors (secrets masked)",
      security,
      request: { params: tenantParam },
      responses: { 200: ok(z.object({ connectors: z.array(connectorConfig) })) },
    },
    admin,
    async (c) => c.json({ connectors: await listMaskedConnectors(c.env.DB, c.req.param("tenant")!) }),
  );
  documented(
    app,
    {
      method: "get",
      path: "/v1/tenants/{tenant}/connectors/{connector}",
      summary: "One connector (secrets masked)",
      security,
      request: { params },
      responses: { 200: ok(connectorConfig) },
    },
    admin,
    async (c) => {
      const id = c.req.param("connector")!;
      const config = await getMaskedConnector(c.env.DB, c.req.param("tenant")!, id);
      if (!config) throw notFound("connector");
      return c.json({ id, ...config });
    },
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
    async (c) => {
      const id = c.req.param("connector")!;
      const config = await getMaskedConnector(c.env.DB, c.req.param("tenant")!, id);
      if (!config) throw notFound("connector");
      return c.json(await connectorUsageOf(c.env, c.req.param("tenant")!, id, config));
    },
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
      if (!(await deleteConnector(c.env.DB, c.req.param("tenant")!, c.req.param("connector")!))) throw notFound("connector");
      return c.body(null, 204);
    },
  );
}
