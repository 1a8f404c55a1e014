import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import { BoundedCache } from "../../shared/bounded-cache.js";
import type { Env } from "../env.js";
import { DomainError } from "../services/errors.js";
import { decrypt, encrypt, fromBase64, randomToken, toBase64 } from "../security/crypto.js";
import { closeSession, openSession, sessionKey as keyOfSession, type KeyRecord } from "../services/keys.js";

export const SESSION_COOKIE = "cb_session";
const SESSION_HOURS = 8;
const AAD = "crm-bridge ui session v1";

/**
 * What the sealed cookie holds: the key (re-checked on every request), the session's row in
 * D1 and its CSRF token. Every request re-checks key and row, so revoking the key or logging out
 * ends the session at once, even for a copy of the cookie.
 */
type Sealed = { k: string; s: string; c: string; e: number };

export type Session = { id: string; key: KeyRecord; csrf: string; expiresAt: number };

export const cookieOptions = (maxAgeSeconds?: number): CookieOptions => ({
  httpOnly: true,
  secure: true,
  sameSite: "Strict",
  path: "/ui",
  ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
});

// The session cookie gets its own key derived from ENCRYPTION_KEY, so a sealed session and a
// sealed connector secret can never be swapped for one another even though one secret feeds both.
// One entry per root key in use (ENCRYPTION_KEY and, while rotating, the previous one).
const derived = new BoundedCache<string, Promise<string>>({ max: 4 });
function deriveKey(root: string): Promise<string> {
  let k = derived.get(root);
  if (!k) {
    k = (async () => {
      const base = await crypto.subtle.importKey("raw", fromBase64(root), "HKDF", false, ["deriveBits"]);
      const bits = await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(AAD) },
        base,
        256,
      );
      return toBase64(new Uint8Array(bits));
    })();
    derived.set(root, k);
  }
  return k;
}

function sessionKey(env: Env): Promise<string> {
  if (!env.ENCRYPTION_KEY) throw new DomainError("encryption_key_missing", "the worker secret ENCRYPTION_KEY is not set");
  return deriveKey(env.ENCRYPTION_KEY);
}

/**
 * Opens a cookie under ENCRYPTION_KEY, else under ENCRYPTION_KEY_PREVIOUS: during a key rotation
 * (docs/operations.md) sessions started before it live on until they expire, CSRF tokens included,
 * instead of every admin being signed out mid-form.
 */
async function openCookie(env: Env, cookie: string): Promise<string> {
  try {
    return await decrypt(await sessionKey(env), cookie, AAD);
  } catch (e) {
    const previous = env.ENCRYPTION_KEY_PREVIOUS;
    if (!previous || previous === env.ENCRYPTION_KEY) throw e;
    return decrypt(await deriveKey(previous), cookie, AAD);
  }
}

/** Records and seals a fresh session for an already verified admin key and sets the cookie. */
export async function startSession<E extends { Bindings: Env }>(c: Context<E>, rawKey: string, key: KeyRecord): Promise<void> {
  const expiresAt = Date.now() + SESSION_HOURS * 3600_000;
  const id = await openSession(c.env, key.id, expiresAt);
  const payload: Sealed = { k: rawKey, s: id, c: randomToken(24), e: expiresAt };
  const sealed = await encrypt(await sessionKey(c.env), JSON.stringify(payload), AAD);
  setCookie(c, SESSION_COOKIE, sealed, cookieOptions(SESSION_HOURS * 3600));
}

/** Drops the cookie and, for a live session, its row: a kept copy of the cookie is then worthless. */
export async function endSession<E extends { Bindings: Env }>(c: Context<E>, session?: Session): Promise<void> {
  deleteCookie(c, SESSION_COOKIE, cookieOptions());
  if (session) await closeSession(c.env, session.id);
}

/**
 * The live session, or null: no cookie, tampered, expired, logged out, or its key revoked or
 * no longer an admin key all look alike to the caller (back to the login page).
 */
export async function readSession<E extends { Bindings: Env }>(c: Context<E>): Promise<Session | null> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return null;
  let payload: Sealed;
  try {
    payload = JSON.parse(await openCookie(c.env, cookie)) as Sealed;
  } catch {
    return null;
  }
  const { k, s, c: csrf, e } = payload;
  if (typeof k !== "string" || typeof s !== "string" || typeof csrf !== "string" || typeof e !== "number" || e < Date.now()) return null;
  const key = await keyOfSession(c.env, s, k);
  if (!key || key.role !== "admin") return null;
  return { id: s, key, csrf, expiresAt: e };
}
