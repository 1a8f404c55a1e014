import { changed } from "./local-epoch.js";

export async function upsertTenant(db: D1Database, id: string, name: string): Promise<{ created: boolean }> {
  const existing = await db.prepare("SELECT 1 FROM tenants WHERE id = ?").bind(id).first();
  await db
    .prepare(
      "INSERT INTO tenants (id, name) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET name = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(id, name)
    .run();
  return { created: !existing };
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
