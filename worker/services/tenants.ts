import { tenantInput } from "../../shared/tenant.js";
import * as store from "../store/tenants.js";
import { logChange, type ServiceContext } from "./context.js";
import { notFound, parseId, parseOrFail } from "./errors.js";

export const parseTenantId = (raw: string | undefined) => parseId(raw, "invalid_tenant_id", "tenant");

export async function putTenant(ctx: ServiceContext, id: string, input: unknown) {
  const started = Date.now();
  parseTenantId(id);
  const { name } = parseOrFail(tenantInput, input);
  const { created } = await store.upsertTenant(ctx.env.DB, id, name);
  logChange(ctx, id, "tenant.put", id, created ? "created" : "updated", started);
  return { created, tenant: { id, name } };
}

export function tenantExists(ctx: Pick<ServiceContext, "env">, id: string): Promise<boolean> {
  return store.tenantExists(ctx.env.DB, id);
}

export function listTenants(ctx: ServiceContext) {
  return store.listTenants(ctx.env.DB);
}

/** The tenant and every row keyed by it, then its cached decisions (best effort). */
export async function deleteTenant(ctx: ServiceContext, id: string) {
  const started = Date.now();
  const deleted = await store.deleteTenant(ctx.env.DB, id);
  if (!deleted) throw notFound("tenant");
  // Entries are unreachable already (see forgetTenantCache); a KV failure must not undo the delete.
  const cacheEntriesDeleted = await store.forgetTenantCache(ctx.env.CACHE, id).catch(() => 0);
  logChange(ctx, id, "tenant.delete", id, "deleted", started);
  return { id, deleted, cacheEntriesDeleted };
}
