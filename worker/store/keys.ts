import type { KeyInfo, Role } from "../../shared/tenant.js";
import { randomId, randomToken, secretsEqual, sha256Hex } from "../security/crypto.js";
import { changed } from "./local-epoch.js";

// cbk_<12-char id>_<43-char secret>: the id finds the row, the secret is checked against its hash.
const KEY_SHAPE = /^cbk_([a-z2-9]{12})_([A-Za-z0-9_-]{43})$/;

export async function createKey(db: D1Database, tenant: string, role: Role) {
  const id = randomId(12);
  const secret = randomToken(32);
  await db
    .prepare("INSERT INTO api_keys (id, tenant_id, role, secret_hash) VALUES (?, ?, ?, ?)")
    .bind(id, tenant, role, await sha256Hex(secret))
    .run();
  return { id, key: `cbk_${id}_${secret}`, role };
}

export type KeyRecord = { id: string; tenant: string; role: Role; lastUsedAt: string | null; cacheGen: number };
export type KeyRow = KeyRecord & { hash: string };

/** The parts of a tenant key, or null when the token does not even look like one. */
export function parseKeyToken(token: string): { id: string; secret: string } | null {
  const m = KEY_SHAPE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** The statement that finds a live key by id, with its tenant's cache generation. */
export function keyLookup(db: D1Database, id: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT k.id, k.tenant_id AS tenant, k.role, k.secret_hash AS hash, k.last_used_at AS lastUsedAt, t.cache_gen AS cacheGen
       FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.id = ? AND k.revoked_at IS NULL`,
    )
    .bind(id);
}

/** The key when the secret matches its row; unknown, wrong secret and revoked all give null. */
export async function checkKey(row: KeyRow | null | undefined, secret: string): Promise<KeyRecord | null> {
  if (!row) return null;
  if (!(await secretsEqual(await sha256Hex(secret), row.hash))) return null;
  return { id: row.id, tenant: row.tenant, role: row.role, lastUsedAt: row.lastUsedAt, cacheGen: row.cacheGen };
}

/** The live key a token names, or null: unknown, malformed, wrong secret and revoked look alike. */
export async function verifyKey(db: D1Database, token: string): Promise<KeyRecord | null> {
  const parsed = parseKeyToken(token);
  if (!parsed) return null;
  return checkKey(await keyLookup(db, parsed.id).first<KeyRow>(), parsed.secret);
}

/** Records use at most once a minute, so a busy agent key costs no write per call. */
export async function touchKey(db: D1Database, key: KeyRecord): Promise<void> {
  const now = new Date();
  if (key.lastUsedAt && now.getTime() - Date.parse(key.lastUsedAt) < 60_000) return;
  await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now.toISOString(), key.id).run();
}

export async function revokeKey(db: D1Database, tenant: string, id: string): Promise<boolean> {
  const r = await db
    .prepare("UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL")
    .bind(tenant, id)
    .run();
  changed();
  if (r.meta.changes === 0) return false;
  // Its admin page sessions would fail the key check anyway; this keeps ui_sessions to live ones.
  await db.prepare("DELETE FROM ui_sessions WHERE key_id = ?").bind(id).run();
  return true;
}

export async function listKeys(db: D1Database, tenant: string): Promise<KeyInfo[]> {
  const { results } = await db
    .prepare(
      "SELECT id, role, created_at AS createdAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC",
    )
    .bind(tenant)
    .all<KeyInfo>();
  return results;
}
