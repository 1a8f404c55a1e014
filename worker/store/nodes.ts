import { BoundedCache } from "../../shared/bounded-cache.js";
import { connectorNames, type NodeConfig } from "../../shared/node.js";
import { unsealConnector, type SealingKeys, type StoredConnector } from "./connectors.js";
import { keyLookup, type KeyRow } from "./keys.js";
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

type ContextRows = { keyRow: KeyRow | null; nodeRow: { config: string } | undefined; connRows: Array<{ id: string; config: string; secrets: string | null; rev: number }> };

/**
 * Identify's D1 rows, kept for one second per key + node. Under load that turns a D1 round trip
 * per call (a far region away when D1's primary is elsewhere) into one per second per isolate.
 * The price: a change made by another isolate (a revoked key, a purge, a new mapping) reaches
 * this one within that second; changes made here are seen at once (localEpoch).
 */
const contexts = new BoundedCache<string, { rows: ContextRows; epoch: number }>({ max: 5000, ttlMs: 1000 });

/**
 * What identify needs, in one D1 round trip: the caller's key row, the node, and its
 * connectors in chain order, decrypted. The key is checked by the caller (auth stays in http/).
 */
export async function loadIdentifyContext(db: D1Database, keys: SealingKeys, keyId: string, tenant: string, id: string) {
  const cacheKey = `${keyId}\u0000${tenant}\u0000${id}`;
  let hit = contexts.get(cacheKey);
  if (!hit || hit.epoch !== localEpoch()) {
    const epoch = localEpoch();
    const [keyRes, nodeRes, connRes] = await db.batch<Record<string, unknown>>([
      keyLookup(db, keyId),
      db.prepare("SELECT id, config FROM nodes WHERE tenant_id = ? AND id = ?").bind(tenant, id),
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
      nodeRow: nodeRes?.results[0] as { config: string } | undefined,
      connRows: (connRes?.results ?? []) as ContextRows["connRows"],
    };
    hit = { rows, epoch };
    contexts.set(cacheKey, hit);
  }
  const { keyRow, nodeRow, connRows } = hit.rows;
  // Connectors are only unsealed for a key of this very tenant: nothing is decrypted for a stranger.
  const load = async () => {
    if (!nodeRow) return null;
    const connectors: StoredConnector[] = await Promise.all(connRows.map((r) => unsealConnector(keys, tenant, r)));
    return { node: { id, ...storedConfig(nodeRow.config) }, connectors };
  };
  return { keyRow, load };
}
