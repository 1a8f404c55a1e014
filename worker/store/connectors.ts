import { BoundedCache } from "../../shared/bounded-cache.js";
import { ApiError } from "../http/errors.js";
import { connectorConfig, connectorModule, type ConnectorConfig } from "../connectors/registry.js";
import { keepStoredSecrets, mergeSecrets, splitSecrets, type SecretEntries } from "../connectors/secrets.js";
import { decrypt, encrypt } from "../security/crypto.js";
import { changed } from "./local-epoch.js";

/**
 * A stored secret kept by "***" while where it is sent changed: it must be typed again, so a
 * tenant admin who never knew it cannot send it to a server of their choosing.
 */
export class SecretRequired extends ApiError {
  constructor(
    readonly secrets: string[],
    readonly destinations: string[],
  ) {
    super(400, "secret_required", `${destinations.join(", ")} changed: re-enter ${secrets.join(", ")} (a stored secret is only sent where it was entered for)`);
  }
}

export type StoredConnector = { id: string; config: ConnectorConfig; rev: number };

type Row = { id: string; config: string; secrets: string | null; rev: number };

/**
 * The key secrets are sealed with, and during a rotation the one it replaces: unsealing tries
 * the current key, then the previous, so calls keep working until every row is re-sealed.
 */
export type SealingKeys = { current: string | undefined; previous?: string | undefined };
export const sealingKeys = (env: { ENCRYPTION_KEY?: string | undefined; ENCRYPTION_KEY_PREVIOUS?: string | undefined }): SealingKeys => ({
  current: env.ENCRYPTION_KEY,
  previous: env.ENCRYPTION_KEY_PREVIOUS,
});

function sealingKey(keys: SealingKeys): string {
  if (!keys.current) throw new ApiError(503, "encryption_key_missing", "the worker secret ENCRYPTION_KEY is not set");
  return keys.current;
}
const aad = (tenant: string, id: string) => `connector:${tenant}:${id}`;

/** The plaintext and which key opened it; a wrong key fails AES-GCM's tag check, never yields garbage. */
async function unseal(keys: SealingKeys, sealed: string, additional: string): Promise<{ text: string; under: "current" | "previous" }> {
  try {
    return { text: await decrypt(sealingKey(keys), sealed, additional), under: "current" };
  } catch (e) {
    if (!keys.previous || e instanceof ApiError) throw e;
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
export async function unsealConnector(encKey: SealingKeys, tenant: string, row: Row): Promise<StoredConnector> {
  const cacheKey = `${tenant}\u0000${row.id}`;
  const hit = unsealed.get(cacheKey);
  if (hit && hit.row.rev === row.rev && hit.row.config === row.config && hit.row.secrets === row.secrets) return hit.connector;
  const masked = JSON.parse(row.config) as ConnectorConfig;
  const connector = { id: row.id, config: mergeSecrets(masked, await openSecrets(encKey, tenant, row)), rev: row.rev };
  unsealed.set(cacheKey, { row: { ...row }, connector });
  return connector;
}

const SELECT = "SELECT id, config, secrets, rev FROM connectors";

export async function getMaskedConnector(db: D1Database, tenant: string, id: string): Promise<ConnectorConfig | null> {
  const row = await db.prepare(`${SELECT} WHERE tenant_id = ? AND id = ?`).bind(tenant, id).first<Row>();
  return row ? (JSON.parse(row.config) as ConnectorConfig) : null;
}

export async function getConnector(db: D1Database, encKey: SealingKeys, tenant: string, id: string): Promise<StoredConnector | null> {
  const row = await db.prepare(`${SELECT} WHERE tenant_id = ? AND id = ?`).bind(tenant, id).first<Row>();
  return row ? unsealConnector(encKey, tenant, row) : null;
}

export async function listMaskedConnectors(db: D1Database, tenant: string) {
  const { results } = await db.prepare(`${SELECT} WHERE tenant_id = ? ORDER BY id`).bind(tenant).all<Row>();
  return results.map((r) => ({ id: r.id, ...(JSON.parse(r.config) as ConnectorConfig) }));
}

/** Create or replace. "***" keeps a stored secret; the secrets are sealed with AES-GCM. */
export async function putConnector(db: D1Database, encKey: SealingKeys, tenant: string, id: string, input: unknown) {
  const parsed = connectorConfig.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error);
  const module = connectorModule(parsed.data.kind);
  const existing = await db.prepare(`${SELECT} WHERE tenant_id = ? AND id = ?`).bind(tenant, id).first<Row>();
  const stored = existing ? { config: JSON.parse(existing.config) as ConnectorConfig, secrets: await openSecrets(encKey, tenant, existing) } : null;
  const { config, missing, rebound } = keepStoredSecrets(parsed.data, stored, module);
  if (rebound) throw new SecretRequired(rebound.secrets, rebound.destinations);
  if (missing.length) throw new ApiError(400, "validation_failed", `secret required: ${missing.join(", ")}`);
  const { masked, secrets } = splitSecrets(config, module.secrets);
  const sealed = secrets.length ? await encrypt(sealingKey(encKey), JSON.stringify(secrets), aad(tenant, id)) : null;
  await db
    .prepare(
      `INSERT INTO connectors (tenant_id, id, kind, config, secrets) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT(tenant_id, id) DO UPDATE SET kind = ?3, config = ?4, secrets = ?5, rev = rev + 1,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    )
    .bind(tenant, id, config.kind, JSON.stringify(masked), sealed)
    .run();
  changed();
  return { created: !existing, config: masked };
}

export async function deleteConnector(db: D1Database, tenant: string, id: string): Promise<boolean> {
  const users = await db
    .prepare("SELECT n.id FROM nodes n, json_each(n.connectors) j WHERE n.tenant_id = ? AND j.value = ? ORDER BY n.id")
    .bind(tenant, id)
    .all<{ id: string }>();
  if (users.results.length) {
    throw new ApiError(409, "connector_in_use", `used by node(s): ${users.results.map((r) => r.id).join(", ")}`);
  }
  const r = await db.prepare("DELETE FROM connectors WHERE tenant_id = ? AND id = ?").bind(tenant, id).run();
  changed();
  return r.meta.changes > 0;
}

export type ResealReport = { resealed: number; alreadyCurrent: number; unreadable: Array<{ tenant: string; connector: string }> };

/**
 * Re-seals every stored secret under the current key (ENCRYPTION_KEY rotation). Idempotent: rows
 * already under the current key are left alone, so it can be run again after a partial run.
 * A row changed meanwhile (a PUT seals under the current key anyway) is not overwritten.
 */
export async function resealAll(db: D1Database, keys: SealingKeys): Promise<ResealReport> {
  sealingKey(keys);
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
    const sealed = await encrypt(sealingKey(keys), opened.text, additional);
    updates.push(db.prepare("UPDATE connectors SET secrets = ? WHERE tenant_id = ? AND id = ? AND secrets = ?").bind(sealed, row.tenant, row.id, row.secrets));
  }
  // D1 caps a batch's size, not its statement count, but chunks keep each transaction short.
  for (let i = 0; i < updates.length; i += 50) {
    for (const r of await db.batch(updates.slice(i, i + 50))) report.resealed += r.meta.changes;
  }
  if (updates.length) changed();
  return report;
}

export function validationError(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): ApiError {
  const text = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "body"}: ${i.message}`)
    .join("; ");
  return new ApiError(400, "validation_failed", text);
}
