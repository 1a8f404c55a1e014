import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { createdKey, keyInfo, keyInput, tenantInput } from "../../shared/tenant.js";
import type { AppEnv } from "../env.js";
import { requireAuth } from "../http/auth.js";
import { documented, jsonBody, ok, security, tenantParam } from "../http/documented.js";
import { resealSecrets } from "../services/connectors.js";
import { serviceContext as svc } from "../services/context.js";
import * as keys from "../services/keys.js";
import { deleteTenant, listTenants, parseTenantId, putTenant } from "../services/tenants.js";
import { readJson, savedStatus } from "./read-json.js";

const tenantSaved = z.object({
  id: z.string(),
  name: z.string(),
  timeZone: z.string().describe("IANA zone the admin pages show times in"),
  defaultCountry: z.string().nullable().describe("ISO 3166-1 alpha-2 country national caller numbers are read in when the node sets none; null: none"),
});
const tenantSummary = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
const deletedTenant = z.object({
  id: z.string(),
  deleted: z.record(z.string(), z.number()).describe("rows removed per table"),
  cacheEntriesDeleted: z.number().describe("KV entries removed now; any left are unreachable and expire on their own"),
});

const resealReport = z.object({
  resealed: z.number().describe("secrets moved from ENCRYPTION_KEY_PREVIOUS to ENCRYPTION_KEY"),
  alreadyCurrent: z.number().describe("secrets already sealed under ENCRYPTION_KEY"),
  unreadable: z.array(z.object({ tenant: z.string(), connector: z.string() })).describe("opened by neither key: enter their secrets again"),
});

export function tenantRoutes(app: OpenAPIHono<AppEnv>) {
  documented(
    app,
    {
      method: "post",
      path: "/v1/admin/reseal",
      summary: "Re-seal every stored secret under ENCRYPTION_KEY (operator; the ENCRYPTION_KEY rotation step, safe to repeat)",
      security,
      responses: { 200: ok(resealReport) },
    },
    requireAuth(["operator"]),
    async (c) => c.json(await resealSecrets(svc(c))),
  );

  documented(
    app,
    {
      method: "get",
      path: "/v1/tenants",
      summary: "List tenants (operator)",
      security,
      responses: { 200: ok(z.object({ tenants: z.array(tenantSummary) })) },
    },
    requireAuth(["operator"]),
    async (c) => c.json({ tenants: await listTenants(svc(c)) }),
  );

  documented(
    app,
    {
      method: "delete",
      path: "/v1/tenants/{tenant}",
      summary: "Delete a tenant with its keys, connectors, nodes, decisions and cached decisions (operator)",
      security,
      request: { params: tenantParam },
      responses: { 200: ok(deletedTenant, "Deleted") },
    },
    requireAuth(["operator"]),
    async (c) => c.json(await deleteTenant(svc(c), c.req.param("tenant")!)),
  );

  documented(
    app,
    {
      method: "put",
      path: "/v1/tenants/{tenant}",
      summary: "Create or update a tenant (operator)",
      security,
      request: { params: tenantParam, ...jsonBody(tenantInput) },
      responses: { 200: ok(tenantSaved, "Updated"), 201: ok(tenantSaved, "Created") },
    },
    requireAuth(["operator"], { tenantMayBeNew: true }),
    async (c) => {
      const tenant = parseTenantId(c.req.param("tenant")!);
      const r = await putTenant(svc(c), tenant, await readJson(c.req.raw));
      return c.json(r.tenant, savedStatus(r));
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
