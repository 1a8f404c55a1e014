import { changed } from "./local-epoch.js";

export type TenantSettings = { timeZone: string; defaultCountry: string | null };

/** `defaultCountry`: undefined keeps the stored one, null clears it. */
export async function upsertTenant(db: D1Database, id: string, name: string, timeZone?: string, defaultCountry?: string | null): Promise<{ created: boolean } & TenantSettings> {
  const existing = await db.prepare("SELECT 1 FROM tenants WHERE id = ?").bind(id).first();
  // A new tenant's cache generation starts at the clock, not 0: a tenant deleted and created
  // again under the same id can never meet a KV entry of its previous life (keys carry it).
  const row = await db
    .prepare(
      `INSERT INTO tenants (id, name, cache_gen, time_zone, default_country) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT(id) DO UPDATE SET name = ?2, time_zone = COALESCE(?4, time_zone),
         default_country = CASE WHEN ?6 THEN ?5 ELSE default_country END, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       RETURNING time_zone AS timeZone, default_country AS defaultCountry`,
    )
    .bind(id, name, Date.now(), timeZone ?? null, defaultCountry ?? null, defaultCountry !== undefined ? 1 : 0)
    .first<{ timeZone: string | null; defaultCountry: string | null }>();
  // Identify's copies of the tenant's nodes carry the country: this isolate reads them again at once.
  if (defaultCountry !== undefined) changed();
  return { created: !existing, timeZone: row?.timeZone ?? "UTC", defaultCountry: row?.defaultCountry ?? null };
}

export type TenantSummary = { id: string; name: string; createdAt: string };

export async function listTenants(db: D1Database): Promise<TenantSummary[]> {
  const { results } = await db.prepare("SELECT id, name, created_at AS createdAt FROM tenants ORDER BY id").all<TenantSummary>();
  return results;
}

/**
 * Every table with a `tenant_id` column, read from the schema rather than listed here, so a
 * table added by a later migration is covered by tenant delete without touching this code.
 */
async function tenantTables(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
       WHERE m.type = 'table' AND c.name = 'tenant_id' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT LIKE '\\_cf\\_%' ESCAPE '\\'
       ORDER BY m.name`,
    )
    .all<{ name: string }>();
  return results.map((r) => r.name);
}

/**
 * Removes the tenant and every row keyed by it in one D1 batch (a transaction: all or nothing).
 * Rows per table are returned so the operator sees what went. KV entries are not in D1: see
 * forgetTenantCache.
 */
export async function deleteTenant(db: D1Database, id: string): Promise<Record<string, number> | null> {
  const tables = await tenantTables(db);
  const statements = [
    ...tables.map((t) => db.prepare(`DELETE FROM "${t.replace(/"/g, '""')}" WHERE tenant_id = ?`).bind(id)),
    db.prepare("DELETE FROM tenants WHERE id = ?").bind(id),
  ];
  const results = await db.batch(statements);
  changed();
  if (!results.at(-1)!.meta.changes) return null;
  return Object.fromEntries([...tables, "tenants"].map((t, i) => [t, results[i]!.meta.changes]));
}

/**
 * Cached decisions of a deleted tenant: unreachable already (no key, connector or generation
 * of theirs is left to build a cache key from), and deleted here so they do not wait for
 * their TTL. Best effort and bounded; whatever is left expires on its own.
 */
export async function forgetTenantCache(kv: KVNamespace, id: string): Promise<number> {
  // One page: a Worker invocation may make about 1000 KV operations, and the rest expire anyway.
  const list = await kv.list({ prefix: `d:${id}:`, limit: 900 });
  await Promise.all(list.keys.map((k) => kv.delete(k.name)));
  return list.keys.length;
}

export async function tenantExists(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM tenants WHERE id = ?").bind(id).first()) !== null;
}

export async function getTenant(db: D1Database, id: string) {
  return db.prepare("SELECT id, name, created_at AS createdAt FROM tenants WHERE id = ?").bind(id).first<{ id: string; name: string; createdAt: string }>();
}

/** A full purge: every cache key carries the generation, so all old entries stop matching at once. */
export async function bumpCacheGeneration(db: D1Database, id: string): Promise<void> {
  await db.prepare("UPDATE tenants SET cache_gen = cache_gen + 1 WHERE id = ?").bind(id).run();
  changed();
}

/** The zone the tenant's pages show times in (UTC until an admin or the operator sets one), and its default country. */
export async function getTenantSettings(db: D1Database, id: string): Promise<TenantSettings> {
  const row = await db
    .prepare("SELECT time_zone AS timeZone, default_country AS defaultCountry FROM tenants WHERE id = ?")
    .bind(id)
    .first<{ timeZone: string | null; defaultCountry: string | null }>();
  return { timeZone: row?.timeZone ?? "UTC", defaultCountry: row?.defaultCountry ?? null };
}

export async function setTenantTimeZone(db: D1Database, id: string, timeZone: string): Promise<void> {
  await db.prepare("UPDATE tenants SET time_zone = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1").bind(id, timeZone).run();
}

export async function setTenantDefaultCountry(db: D1Database, id: string, country: string | null): Promise<void> {
  await db.prepare("UPDATE tenants SET default_country = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1").bind(id, country).run();
  changed();
}
