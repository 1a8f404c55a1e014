import { BoundedCache } from "../../shared/bounded-cache.js";
import type { ConnectorConfig } from "../connectors/registry.js";
import { mergeSecrets, splitSecrets, type SecretEntries } from "../connectors/secrets.js";
import { decrypt, encrypt } from "../security/crypto.js";
import { changed } from "./local-epoch.js";

export type StoredConnector = { id: string; config: ConnectorConfig; rev: number };

/**
 * The key secrets are sealed with, and during a rotation the one it replaces: unsealing tries
 * the current key, then the previous, so calls keep working until every row is re-sealed.
 * `current` is asked for only when there is something to seal or open (a tenant without secrets
 * works without it); the service layer supplies it and says what is wrong when it is unset.
 */
export type SealingKeys = { current: () => string; previous?: string | undefined };

type Row = { id: string; config: string; secrets: string | null; rev: number };

const aad = (tenant: string, id: string) => `connector:${tenant}:${id}`;

/** The plaintext and which key opened it; a wrong key fails AES-GCM's tag check, never yields garbage. */
async function unseal(keys: SealingKeys, sealed: string, additional: string): Promise<{ text: string; under: "current" | "previous" }> {
  const current = keys.current();
  try {
    return { text: await decrypt(current, sealed, additional), under: "current" };
  } catch (e) {
    if (!keys.previous) throw e;
    return { text: await decrypt(keys.previous, sealed, additional), under: "previous" };
  }
}

async function openSecrets(keys: SealingKeys, tenant: string, row: Row): Promise<SecretEntries> {
  if (!row.secrets) return [];
  return JSON.parse((await unseal(keys, row.secrets, aad(tenant, row.id))).text) as SecretEntries;
}

// Decrypted configs by row, reused while the row is byte-for-byte the same (rev, config and
// ciphertext all match), so a hot identify path does no AES work and can never see a stale config.
const unsealed = new BoundedCache<string, { row: Row; connector: StoredConnector }>({ max: 1000 });

/** Decrypted, ready for a lookup. Stored rows were validated on the way in, so they are trusted here. */
export async function unsealConnector(keys: SealingKeys, tenant: string, row: Row): Promise<StoredConnector> {
  const cacheKey = `${tenant}\u0000${row.id}`;
  const hit = unsealed.get(cacheKey);
  if (hit && hit.row.rev === row.rev && hit.row.config === row.config && hit.row.secrets === row.secrets) return hit.connector;
  const masked = JSON.parse(row.config) as ConnectorConfig;
  const connector = { id: row.id, config: mergeSecrets(masked, await openSecrets(keys, tenant, row)), rev: row.rev };
  unsealed.set(cacheKey, { row: { ...row }, connector });
  return connector;
}

const SELECT = "SELECT id, config, secrets, rev FROM connectors";
const one = (db: D1Database, tenant: string, id: string) => db.prepare(`${SELECT} WHERE tenant_id = ? AND id = ?`).bind(tenant, id).first<Row>();

export async function getMaskedConnector(db: D1Database, tenant: string, id: string): Promise<ConnectorConfig | null> {
  const row = await one(db, tenant, id);
  return row ? (JSON.parse(row.config) as ConnectorConfig) : null;
}

export async function getConnector(db: D1Database, keys: SealingKeys, tenant: string, id: string): Promise<StoredConnector | null> {
  const row = await one(db, tenant, id);
  return row ? unsealConnector(keys, tenant, row) : null;
}

/** The stored config (masked) with its secrets apart, as a replacement is checked against it. */
export async function getConnectorWithSecrets(db: D1Database, keys: SealingKeys, tenant: string, id: string) {
  const row = await one(db, tenant, id);
  return row ? { config: JSON.parse(row.config) as ConnectorConfig, secrets: await openSecrets(keys, tenant, row) } : null;
}

export async function listMaskedConnectors(db: D1Database, tenant: string) {
  const { results } = await db.prepare(`${SELECT} WHERE tenant_id = ? ORDER BY id`).bind(tenant).all<Row>();
  return results.map((r) => ({ id: r.id, ...(JSON.parse(r.config) as ConnectorConfig) }));
}

/** Create or replace a validated config: the secrets at `secretPatterns` are sealed with AES-GCM, the rest stored masked. */
export async function saveConnector(db: D1Database, keys: SealingKeys, tenant: string, id: string, config: ConnectorConfig, secretPatterns: readonly string[]) {
  const { masked, secrets } = splitSecrets(config, secretPatterns);
  const sealed = secrets.length ? await encrypt(keys.current(), JSON.stringify(secrets), aad(tenant, id)) : null;
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

export type ResealReport = { resealed: number; alreadyCurrent: number; unreadable: Array<{ tenant: string; connector: string }> };

/**
 * Re-seals every stored secret under the current key (ENCRYPTION_KEY rotation). Idempotent: rows
 * already under the current key are left alone, so it can be run again after a partial run.
 * A row changed meanwhile (a PUT seals under the current key anyway) is not overwritten.
 */
export async function resealAll(db: D1Database, keys: SealingKeys): Promise<ResealReport> {
  const current = keys.current();
  const { results } = await db
    .prepare("SELECT tenant_id AS tenant, id, secrets FROM connectors WHERE secrets IS NOT NULL ORDER BY tenant_id, id")
    .all<{ tenant: string; id: string; secrets: string }>();
  const report: ResealReport = { resealed: 0, alreadyCurrent: 0, unreadable: [] };
  const updates: D1PreparedStatement[] = [];
  for (const row of results) {
    const additional = aad(row.tenant, row.id);
    let opened: Awaited<ReturnType<typeof unseal>>;
    try {
      opened = await unseal(keys, row.secrets, additional);
    } catch {
      // Neither key opens it: its secrets must be entered again. Ids only, never the ciphertext.
      report.unreadable.push({ tenant: row.tenant, connector: row.id });
      continue;
    }
    if (opened.under === "current") {
      report.alreadyCurrent++;
      continue;
    }
    const sealed = await encrypt(current, opened.text, additional);
    updates.push(db.prepare("UPDATE connectors SET secrets = ? WHERE tenant_id = ? AND id = ? AND secrets = ?").bind(sealed, row.tenant, row.id, row.secrets));
  }
  // D1 caps a batch's size, not its statement count, but chunks keep each transaction short.
  for (let i = 0; i < updates.length; i += 50) {
    for (const r of await db.batch(updates.slice(i, i + 50))) report.resealed += r.meta.changes;
  }
  if (updates.length) changed();
  return report;
}
