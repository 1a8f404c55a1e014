import type { ConnectorConfig } from "../connectors/registry.js";
import { mergeSecrets, splitSecrets, type SecretEntries } from "../connectors/secrets.js";
import { decrypt, encrypt } from "../security/crypto.js";
import { changed } from "./local-epoch.js";

export type StoredConnector = { id: string; config: ConnectorConfig; rev: number };

/**
 * The sealing key, asked for only when there is something to seal or open: a tenant without
 * secrets works without it. The service layer supplies it and says what is wrong when it is unset.
 */
export type SealingKey = () => string;

type Row = { id: string; config: string; secrets: string | null; rev: number };

const aad = (tenant: string, id: string) => `connector:${tenant}:${id}`;

async function openSecrets(key: SealingKey, tenant: string, row: Row): Promise<SecretEntries> {
  if (!row.secrets) return [];
  return JSON.parse(await decrypt(key(), row.secrets, aad(tenant, row.id))) as SecretEntries;
}

// Decrypted configs by row, reused while the row is byte-for-byte the same (rev, config and
// ciphertext all match), so a hot identify path does no AES work and can never see a stale config.
const unsealed = new Map<string, { row: Row; connector: StoredConnector }>();
const MAX_UNSEALED = 1000;

/** Decrypted, ready for a lookup. Stored rows were validated on the way in, so they are trusted here. */
export async function unsealConnector(key: SealingKey, tenant: string, row: Row): Promise<StoredConnector> {
  const cacheKey = `${tenant}\u0000${row.id}`;
  const hit = unsealed.get(cacheKey);
  if (hit && hit.row.rev === row.rev && hit.row.config === row.config && hit.row.secrets === row.secrets) return hit.connector;
  const masked = JSON.parse(row.config) as ConnectorConfig;
  const connector = { id: row.id, config: mergeSecrets(masked, await openSecrets(key, tenant, row)), rev: row.rev };
  if (unsealed.size >= MAX_UNSEALED) unsealed.clear();
  unsealed.set(cacheKey, { row: { ...row }, connector });
  return connector;
}

const SELECT = "SELECT id, config, secrets, rev FROM connectors";
const one = (db: D1Database, tenant: string, id: string) => db.prepare(`${SELECT} WHERE tenant_id = ? AND id = ?`).bind(tenant, id).first<Row>();

export async function getMaskedConnector(db: D1Database, tenant: string, id: string): Promise<ConnectorConfig | null> {
  const row = await one(db, tenant, id);
  return row ? (JSON.parse(row.config) as ConnectorConfig) : null;
}

export async function getConnector(db: D1Database, key: SealingKey, tenant: string, id: string): Promise<StoredConnector | null> {
  const row = await one(db, tenant, id);
  return row ? unsealConnector(key, tenant, row) : null;
}

/** The stored config (masked) with its secrets apart, as a replacement is checked against it. */
export async function getConnectorWithSecrets(db: D1Database, key: SealingKey, tenant: string, id: string) {
  const row = await one(db, tenant, id);
  return row ? { config: JSON.parse(row.config) as ConnectorConfig, secrets: await openSecrets(key, tenant, row) } : null;
}

export async function listMaskedConnectors(db: D1Database, tenant: string) {
  const { results } = await db.prepare(`${SELECT} WHERE tenant_id = ? ORDER BY id`).bind(tenant).all<Row>();
  return results.map((r) => ({ id: r.id, ...(JSON.parse(r.config) as ConnectorConfig) }));
}

/** Create or replace a validated config: the secrets at `secretPatterns` are sealed with AES-GCM, the rest stored masked. */
export async function saveConnector(db: D1Database, key: SealingKey, tenant: string, id: string, config: ConnectorConfig, secretPatterns: readonly string[]) {
  const { masked, secrets } = splitSecrets(config, secretPatterns);
  const sealed = secrets.length ? await encrypt(key(), JSON.stringify(secrets), aad(tenant, id)) : null;
  const existed = await db.prepare("SELECT 1 FROM connectors WHERE tenant_id = ? AND id = ?").bind(tenant, id).first();
  await db
    .prepare(
      `INSERT INTO connectors (tenant_id, id, kind, config, secrets) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT(tenant_id, id) DO UPDATE SET kind = ?3, config = ?4, secrets = ?5, rev = rev + 1,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    )
    .bind(tenant, id, config.kind, JSON.stringify(masked), sealed)
    .run();
  changed();
  return { created: !existed, config: masked };
}

/** The nodes whose chain names the connector, by id. */
export async function nodesUsingConnector(db: D1Database, tenant: string, id: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT n.id FROM nodes n, json_each(n.connectors) j WHERE n.tenant_id = ? AND j.value = ? ORDER BY n.id")
    .bind(tenant, id)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** Deletes the connector unless a node names it (checked in the same statement, so no node can slip in between). */
export async function deleteUnusedConnector(db: D1Database, tenant: string, id: string): Promise<boolean> {
  const r = await db
    .prepare(
      `DELETE FROM connectors WHERE tenant_id = ?1 AND id = ?2
       AND NOT EXISTS (SELECT 1 FROM nodes n, json_each(n.connectors) j WHERE n.tenant_id = ?1 AND j.value = ?2)`,
    )
    .bind(tenant, id)
    .run();
  changed();
  return r.meta.changes > 0;
}

/** Each connector's id and revision (one, when `id` is given), for a cache purge. */
export async function connectorRevisions(db: D1Database, tenant: string, id: string | undefined) {
  const { results } = await db
    .prepare("SELECT id, rev FROM connectors WHERE tenant_id = ? AND (? IS NULL OR id = ?)")
    .bind(tenant, id ?? null, id ?? null)
    .all<{ id: string; rev: number }>();
  return results;
}

/** Bumping the revision retires every cached entry of the connector at once, everywhere. */
export async function bumpConnectorRevision(db: D1Database, tenant: string, id: string): Promise<void> {
  await db.prepare("UPDATE connectors SET rev = rev + 1 WHERE tenant_id = ? AND id = ?").bind(tenant, id).run();
  changed();
}
