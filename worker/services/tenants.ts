import { tenantInput } from "../../shared/tenant.js";
import * as store from "../store/tenants.js";
import { logChange, type ServiceContext } from "./context.js";
import { notFound, parseId, parseOrFail } from "./errors.js";
import { tenantHome } from "../tenant/home.js";

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
  // The decision log lives in the tenant's own object (docs/scale.md), wiped after D1 so a
  // failure here is retried by repeating the DELETE (a 404 then, with the object wiped all the
  // same). Its version moves too: every isolate drops its copy of the tenant's keys.
  const home = await tenantHome(ctx.env, id).wipe();
  if (!deleted) throw notFound("tenant");
  deleted.decisions = (deleted.decisions ?? 0) + home.decisions;
  // Entries are unreachable already (see forgetTenantCache); a KV failure must not undo the delete.
  const cacheEntriesDeleted = await store.forgetTenantCache(ctx.env.CACHE, id).catch(() => 0);
  logChange(ctx, id, "tenant.delete", id, "deleted", started);
  return { id, deleted, cacheEntriesDeleted };
}
