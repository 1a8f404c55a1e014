import { countryCode } from "../../shared/phone.js";
import { tenantInput, timeZone } from "../../shared/tenant.js";
import * as store from "../store/tenants.js";
import { logChange, type ServiceContext } from "./context.js";
import { notFound, parseId, parseOrFail } from "./errors.js";
import { tenantHome } from "../tenant/home.js";

export const parseTenantId = (raw: string | undefined) => parseId(raw, "invalid_tenant_id", "tenant");

export async function putTenant(ctx: ServiceContext, id: string, input: unknown) {
  const started = Date.now();
  parseTenantId(id);
  const { name, timeZone: zone, defaultCountry: country } = parseOrFail(tenantInput, input);
  const { created, timeZone, defaultCountry } = await store.upsertTenant(ctx.env.DB, id, name, zone, country);
  logChange(ctx, id, "tenant.put", id, created ? "created" : "updated", started);
  return { created, tenant: { id, name, timeZone, defaultCountry } };
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
  const home = await tenantHome(ctx.env, id).wipe(id);
  if (!deleted) throw notFound("tenant");
  deleted.decisions = (deleted.decisions ?? 0) + home.decisions;
  // Entries are unreachable already (see forgetTenantCache); a KV failure must not undo the delete.
  const cacheEntriesDeleted = await store.forgetTenantCache(ctx.env.CACHE, id).catch(() => 0);
  logChange(ctx, id, "tenant.delete", id, "deleted", started);
  return { id, deleted, cacheEntriesDeleted };
}

/** The zone the tenant's pages show times in (UTC until set). */
export async function tenantTimeZone(ctx: Pick<ServiceContext, "env">, tenant: string): Promise<string> {
  return (await store.getTenantSettings(ctx.env.DB, tenant)).timeZone;
}

/** The tenant's page settings: time zone and default country for national caller numbers. */
export function tenantSettings(ctx: Pick<ServiceContext, "env">, tenant: string): Promise<store.TenantSettings> {
  return store.getTenantSettings(ctx.env.DB, tenant);
}

/** The tenant admin's own setting, from the keys page; the operator sets the same with PUT /v1/tenants/:tenant. */
export async function setTenantTimeZone(ctx: ServiceContext, tenant: string, input: unknown): Promise<string> {
  const started = Date.now();
  const zone = parseOrFail(timeZone, input);
  await store.setTenantTimeZone(ctx.env.DB, tenant, zone);
  logChange(ctx, tenant, "tenant.time_zone", tenant, "updated", started);
  return zone;
}

/** The tenant admin's default country for national caller numbers (keys page); "" or null removes it. */
export async function setTenantDefaultCountry(ctx: ServiceContext, tenant: string, input: unknown): Promise<string | null> {
  const started = Date.now();
  const country = input === "" || input === null ? null : parseOrFail(countryCode, input);
  await store.setTenantDefaultCountry(ctx.env.DB, tenant, country);
  logChange(ctx, tenant, "tenant.default_country", tenant, "updated", started);
  return country;
}
