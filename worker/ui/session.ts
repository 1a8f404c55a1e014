import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { Env } from "../env.js";
import { ApiError } from "../http/errors.js";
import { decrypt, encrypt, fromBase64, randomToken, toBase64 } from "../security/crypto.js";
import { verifyKey, type KeyRecord } from "../store/keys.js";

export const SESSION_COOKIE = "cb_session";
const SESSION_HOURS = 8;
const AAD = "crm-bridge ui session v1";

/** What the sealed cookie holds. The key itself is sealed, so every request re-checks it (revocation ends the session). */
type Sealed = { k: string; c: string; e: number };

/** `token` is the raw key, kept only in memory for this request: the pages call the API with it, never render it. */
export type Session = { key: KeyRecord; token: string; csrf: string; expiresAt: number };

export const cookieOptions = (maxAgeSeconds?: number): CookieOptions => ({
  httpOnly: true,
  secure: true,
  sameSite: "Strict",
  path: "/ui",
  ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
});

// The session cookie gets its own key derived from ENCRYPTION_KEY, so a sealed session and a
// sealed connector secret can never be swapped for one another even though one secret feeds both.
const derived = new Map<string, Promise<string>>();
function sessionKey(env: Env): Promise<string> {
  const root = env.ENCRYPTION_KEY;
  if (!root) throw new ApiError(503, "encryption_key_missing", "the worker secret ENCRYPTION_KEY is not set");
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

/** Seals a fresh session for an already verified admin key and sets the cookie. */
export async function startSession<E extends { Bindings: Env }>(c: Context<E>, rawKey: string): Promise<void> {
  const payload: Sealed = { k: rawKey, c: randomToken(24), e: Date.now() + SESSION_HOURS * 3600_000 };
  const sealed = await encrypt(await sessionKey(c.env), JSON.stringify(payload), AAD);
  setCookie(c, SESSION_COOKIE, sealed, cookieOptions(SESSION_HOURS * 3600));
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions());
}

/**
 * The live session, or null: no cookie, tampered, expired, or its key revoked or no longer
 * an admin key all look alike to the caller (back to the login page).
 */
export async function readSession<E extends { Bindings: Env }>(c: Context<E>): Promise<Session | null> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return null;
  let payload: Sealed;
  try {
    payload = JSON.parse(await decrypt(await sessionKey(c.env), cookie, AAD)) as Sealed;
  } catch {
    return null;
  }
  if (typeof payload.k !== "string" || typeof payload.c !== "string" || typeof payload.e !== "number" || payload.e < Date.now()) return null;
  const key = await verifyKey(c.env.DB, payload.k);
  if (!key || key.role !== "admin") return null;
  return { key, token: payload.k, csrf: payload.c, expiresAt: payload.e };
}
