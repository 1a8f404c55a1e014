import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { randomToken, secretsEqual } from "../security/crypto.js";
import { cookieOptions } from "./session.js";

export const CSRF_FIELD = "_csrf";
const LOGIN_COOKIE = "cb_login";

/** The token a form must echo: equal to the one sealed in the session cookie (synchronizer token). */
export async function csrfMatches(expected: string, form: Record<string, unknown>): Promise<boolean> {
  const got = form[CSRF_FIELD];
  return typeof got === "string" && got.length > 0 && (await secretsEqual(got, expected));
}

/**
 * Before sign-in there is no session to bind to, so the login form uses a double-submit
 * token: a random cookie (SameSite=Strict, so another site's form cannot send it) that the
 * form must repeat. This stops a third party from signing a browser into the attacker's tenant.
 */
export function loginCsrfToken(c: Context): string {
  const existing = getCookie(c, LOGIN_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
  const token = randomToken(24);
  setCookie(c, LOGIN_COOKIE, token, cookieOptions(3600));
  return token;
}

export async function loginCsrfMatches(c: Context, form: Record<string, unknown>): Promise<boolean> {
  const cookie = getCookie(c, LOGIN_COOKIE);
  return cookie !== undefined && (await csrfMatches(cookie, form));
}
