import { SLUG_PATTERN } from "../../shared/ids.js";
import { tenantInput } from "../../shared/tenant.js";
import * as store from "../store/tenants.js";
import { logChange, type ServiceContext } from "./context.js";
import { DomainError, notFound, validationFailed } from "./errors.js";

export function parseTenantId(id: string): string {
  if (!SLUG_PATTERN.test(id)) throw new DomainError("invalid_tenant_id", "tenant ids are lower-case letters, digits and '-'");
  return id;
}

export async function putTenant(ctx: ServiceContext, id: string, input: unknown) {
  const started = Date.now();
  parseTenantId(id);
  const body = tenantInput.safeParse(input);
  if (!body.success) throw validationFailed(body.error.issues);
  const { created } = await store.upsertTenant(ctx.env.DB, id, body.data.name);
  logChange(ctx, id, "tenant.put", id, created ? "created" : "updated", started);
  return { created, tenant: { id, name: body.data.name } };
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
