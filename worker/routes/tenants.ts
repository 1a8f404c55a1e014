import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { createdKey, keyInfo, keyInput, tenantInput } from "../../shared/tenant.js";
import type { AppEnv } from "../env.js";
import { requireAuth } from "../http/auth.js";
import { documented, jsonBody, ok, security, tenantParam } from "../http/documented.js";
import { serviceContext as svc } from "../services/context.js";
import * as keys from "../services/keys.js";
import { parseTenantId, putTenant } from "../services/tenants.js";
import { readJson } from "./read-json.js";

export function tenantRoutes(app: OpenAPIHono<AppEnv>) {
  documented(
    app,
    {
      method: "put",
      path: "/v1/tenants/{tenant}",
      summary: "Create or update a tenant (operator)",
      security,
      request: { params: tenantParam, ...jsonBody(tenantInput) },
      responses: { 200: ok(z.object({ id: z.string(), name: z.string() }), "Updated"), 201: ok(z.object({ id: z.string(), name: z.string() }), "Created") },
    },
    requireAuth(["operator"], { tenantMayBeNew: true }),
    async (c) => {
      const tenant = parseTenantId(c.req.param("tenant")!);
      const r = await putTenant(svc(c), tenant, await readJson(c.req.raw));
      return c.json(r.tenant, r.created ? 201 : 200);
    },
  );

  documented(
    app,
    {
      method: "post",
      path: "/v1/tenants/{tenant}/keys",
      summary: "Issue a key; the key is shown only in this answer",
      security,
      request: { params: tenantParam, ...jsonBody(keyInput) },
      responses: { 201: ok(createdKey, "Created") },
    },
    requireAuth(["operator", "admin"]),
    async (c) => c.json(await keys.issueKey(svc(c), c.req.param("tenant")!, await readJson(c.req.raw)), 201),
  );

  documented(
    app,
    {
      method: "get",
      path: "/v1/tenants/{tenant}/keys",
      summary: "List keys (never the keys themselves)",
      security,
      request: { params: tenantParam },
      responses: { 200: ok(z.object({ keys: z.array(keyInfo) })) },
    },
    requireAuth(["operator", "admin"]),
    async (c) => c.json({ keys: await keys.listKeys(svc(c), c.req.param("tenant")!) }),
  );

  documented(
    app,
    {
      method: "delete",
      path: "/v1/tenants/{tenant}/keys/{id}",
      summary: "Revoke a key; it fails at once",
      security,
      request: { params: tenantParam.extend({ id: z.string() }) },
      responses: { 204: { description: "Revoked" } },
    },
    requireAuth(["operator", "admin"]),
    async (c) => {
      await keys.revokeKey(svc(c), c.req.param("tenant")!, c.req.param("id")!);
      return c.body(null, 204);
    },
  );
}
