import { connectorNames, type NodeConfig } from "../../shared/node.js";
import { unsealConnector, type SealingKeys, type StoredConnector } from "./connectors.js";
import { keyLookup, type KeyRow } from "./keys.js";
import type { Env } from "../env.js";
import { tenantHome } from "../tenant/home.js";
import { changed, localEpoch } from "./local-epoch.js";

/** The names among `names` that are connectors of the tenant. */
export async function existingConnectors(db: D1Database, tenant: string, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const { results } = await db
    .prepare("SELECT id FROM connectors WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))")
    .bind(tenant, JSON.stringify(names))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** A stored node; rows written before a field with a default existed read as that default. */
function storedConfig(json: string): NodeConfig {
  return { identifyBy: "dtmf", confirmCaller: false, ...(JSON.parse(json) as Partial<NodeConfig>) } as NodeConfig;
}

/** Create or replace a validated node; its chain is kept apart so connector deletes can see who uses them. */
export async function saveNode(db: D1Database, tenant: string, id: string, config: NodeConfig) {
  const existed = await db.prepare("SELECT 1 FROM nodes WHERE tenant_id = ? AND id = ?").bind(tenant, id).first();
  await db
    .prepare(
      `INSERT INTO nodes (tenant_id, id, config, connectors) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT(tenant_id, id) DO UPDATE SET config = ?3, connectors = ?4, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    )
    .bind(tenant, id, JSON.stringify(config), JSON.stringify(connectorNames(config)))
    .run();
  changed();
  return { created: !existed, node: { id, ...config } };
}

export async function getNode(db: D1Database, tenant: string, id: string) {
  const row = await db.prepare("SELECT config FROM nodes WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ config: string }>();
  return row ? { id, ...storedConfig(row.config) } : null;
}

export async function listNodes(db: D1Database, tenant: string) {
  const { results } = await db.prepare("SELECT id, config FROM nodes WHERE tenant_id = ? ORDER BY id").bind(tenant).all<{ id: string; config: string }>();
  return results.map((r) => ({ id: r.id, ...storedConfig(r.config) }));
}

export async function deleteNode(db: D1Database, tenant: string, id: string): Promise<boolean> {
  const r = await db.prepare("DELETE FROM nodes WHERE tenant_id = ? AND id = ?").bind(tenant, id).run();
  changed();
  return r.meta.changes > 0;
}

type ContextRows = { keyRow: KeyRow | null; nodeRow: { config: string; defaultCountry: string | null } | undefined; connRows: Array<{ id: string; config: string; secrets: string | null; rev: number }> };

/**
 * Identify's D1 rows per key + node, kept while the tenant's config version (held by its
 * TenantHome object, bumped after every config write) is unchanged: in steady state an identify
 * makes no D1 query. The version is re-checked at most once a second per tenant per isolate, so
 * a change made by another isolate (a revoked key, a purge, a new mapping) reaches this one
 * within that second; changes made here are seen at once (localEpoch). docs/scale.md.
 */
export const RECHECK_MS = 1000;
/**
 * A copy is read again after this long even if the version did not move: writes that bypass
 * the worker (`wrangler d1 execute`, a Time Travel restore) bump no version, and reach identify
 * within this bound (docs/operations.md). At most one D1 batch per key + node per isolate per hour.
 */
export const MAX_COPY_MS = 3600_000;
const contexts = new Map<string, { rows: ContextRows; version: number; epoch: number; readAt: number }>();
const versions = new Map<string, { version: number; until: number }>();
const MAX_ENTRIES = 5000;

/** Counted by the many-tenant bench and tests; a module counter costs nothing on the hot path. */
export const hotPathCounters = { d1Batches: 0, versionChecks: 0 };
/** How many copies the isolate holds (bounded by MAX_ENTRIES each): the bench's memory figure. */
export const copiesHeld = () => ({ contexts: contexts.size, versions: versions.size });

/**
 * The tenant's config version as this isolate last confirmed it, re-asked after RECHECK_MS.
 * Each request asks for itself (no shared promise: workerd must not await another request's
 * I/O); an unreachable object yields NaN, which matches nothing, so D1 is read as before.
 */
async function tenantVersion(env: Pick<Env, "TENANT_HOME">, tenant: string, now: number): Promise<number> {
  const known = versions.get(tenant);
  if (known && known.until > now) return known.version;
  hotPathCounters.versionChecks++;
  const version = await tenantHome(env, tenant)
    .version()
    .catch(() => NaN);
  if (versions.size >= MAX_ENTRIES) versions.clear();
  versions.set(tenant, { version, until: now + RECHECK_MS });
  return version;
}

/**
 * What identify needs: the caller's key row, the node, and its connectors in chain order,
 * decrypted; one D1 round trip when the tenant's config changed, none otherwise. The key is
 * checked by the caller (auth stays in http/).
 */
export async function loadIdentifyContext(env: Pick<Env, "DB" | "TENANT_HOME">, keys: SealingKeys, keyId: string, tenant: string, id: string) {
  const db = env.DB;
  const cacheKey = `${keyId}\u0000${tenant}\u0000${id}`;
  const epoch = localEpoch();
  const now = Date.now();
  const version = await tenantVersion(env, tenant, now);
  let hit = contexts.get(cacheKey);
  if (!hit || hit.epoch !== epoch || hit.version !== version || now - hit.readAt > MAX_COPY_MS) {
    hotPathCounters.d1Batches++;
    const [keyRes, nodeRes, connRes] = await db.batch<Record<string, unknown>>([
      keyLookup(db, keyId),
      db
        .prepare("SELECT n.id, n.config, t.default_country AS defaultCountry FROM nodes n JOIN tenants t ON t.id = n.tenant_id WHERE n.tenant_id = ? AND n.id = ?")
        .bind(tenant, id),
      db
        .prepare(
          `SELECT c.id, c.config, c.secrets, c.rev FROM nodes n, json_each(n.connectors) j
           JOIN connectors c ON c.tenant_id = n.tenant_id AND c.id = j.value
           WHERE n.tenant_id = ? AND n.id = ? ORDER BY j.key`,
        )
        .bind(tenant, id),
    ]);
    const rows: ContextRows = {
      keyRow: (keyRes?.results[0] as KeyRow | undefined) ?? null,
      nodeRow: nodeRes?.results[0] as ContextRows["nodeRow"],
      connRows: (connRes?.results ?? []) as ContextRows["connRows"],
    };
    // Read after the version: a write landing in between leaves a copy newer than its version,
    // which the next check replaces; never an older copy under a newer version.
    hit = { rows, version, epoch, readAt: now };
    if (contexts.size >= MAX_ENTRIES) contexts.clear();
    contexts.set(cacheKey, hit);
  }
  const { keyRow, nodeRow, connRows } = hit.rows;
  // Connectors are only unsealed for a key of this very tenant: nothing is decrypted for a stranger.
  const load = async () => {
    if (!nodeRow) return null;
    const connectors: StoredConnector[] = await Promise.all(connRows.map((r) => unsealConnector(keys, tenant, r)));
    const node = { id, ...storedConfig(nodeRow.config) };
    // National caller numbers are read in the node's country, else the tenant's (issue 12).
    const defaultCountry = node.defaultCountry ?? nodeRow.defaultCountry ?? undefined;
    return { node: defaultCountry ? { ...node, defaultCountry } : node, connectors };
  };
  return { keyRow, load };
}
