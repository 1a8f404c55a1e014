import { randomToken } from "../security/crypto.js";
import type { KeyRow } from "./keys.js";

/** A new admin page session of a key, until `expiresAt` (ms); expired rows of that key go at the same time. */
export async function createSession(db: D1Database, keyId: string, expiresAt: number): Promise<string> {
  const id = randomToken(24);
  await db.batch([
    db.prepare("DELETE FROM ui_sessions WHERE key_id = ? AND expires_at <= ?").bind(keyId, Date.now()),
    db.prepare("INSERT INTO ui_sessions (id, key_id, expires_at) VALUES (?, ?, ?)").bind(id, keyId, expiresAt),
  ]);
  return id;
}

/**
 * The key row behind a live session, in one read: no row when the session was ended, has expired,
 * belongs to another key, or its key was revoked. The caller still checks the key's secret.
 */
export function sessionKeyLookup(db: D1Database, sessionId: string, keyId: string): Promise<KeyRow | null> {
  return db
    .prepare(
      `SELECT k.id, k.tenant_id AS tenant, k.role, k.secret_hash AS hash, k.last_used_at AS lastUsedAt, t.cache_gen AS cacheGen
       FROM ui_sessions s JOIN api_keys k ON k.id = s.key_id JOIN tenants t ON t.id = k.tenant_id
       WHERE s.id = ? AND s.key_id = ? AND s.expires_at > ? AND k.revoked_at IS NULL`,
    )
    .bind(sessionId, keyId, Date.now())
    .first<KeyRow>();
}

export async function deleteSession(db: D1Database, sessionId: string): Promise<void> {
  await db.prepare("DELETE FROM ui_sessions WHERE id = ?").bind(sessionId).run();
}
