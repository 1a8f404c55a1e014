import { keyInput } from "../../shared/tenant.js";
import type { Env } from "../env.js";
import * as store from "../store/keys.js";
import * as sessions from "../store/sessions.js";
import { logChange, removeOne, type ServiceContext } from "./context.js";
import { parseOrFail } from "./errors.js";

export type { KeyRecord } from "../store/keys.js";

/** Issues a key; the raw key is in this answer only (its hash is what is stored). */
export async function issueKey(ctx: ServiceContext, tenant: string, input: unknown) {
  const started = Date.now();
  const { role } = parseOrFail(keyInput, input);
  const created = await store.createKey(ctx.env.DB, tenant, role);
  logChange(ctx, tenant, `key.create.${created.role}`, created.id, "created", started);
  return created;
}

export function listKeys(ctx: ServiceContext, tenant: string) {
  return store.listKeys(ctx.env.DB, tenant);
}

/** Revoked at once: the key and its admin page sessions fail from the next request on. */
export function revokeKey(ctx: ServiceContext, tenant: string, id: string): Promise<void> {
  return removeOne(ctx, tenant, { what: "key", id, action: "key.revoke", outcome: "revoked" }, () => store.revokeKey(ctx.env.DB, tenant, id));
}

/** The live key a token names, or null: unknown, malformed, wrong secret and revoked look alike. */
export function verifyKey(env: Env, token: string) {
  return store.verifyKey(env.DB, token);
}

/** Records use after the answer, at most once a minute. */
export function touchKey(ctx: ServiceContext, key: store.KeyRecord): void {
  ctx.defer(store.touchKey(ctx.env.DB, key).catch(() => undefined));
}

/** A new admin page session of a verified key, until `expiresAt` (ms). */
export function openSession(env: Env, keyId: string, expiresAt: number): Promise<string> {
  return sessions.createSession(env.DB, keyId, expiresAt);
}

/** The key behind a live session when `rawKey` is that key; null for an ended, expired or revoked one. */
export async function sessionKey(env: Env, sessionId: string, rawKey: string) {
  const parsed = store.parseKeyToken(rawKey);
  if (!parsed) return null;
  return store.checkKey(await sessions.sessionKeyLookup(env.DB, sessionId, parsed.id), parsed.secret);
}

export function closeSession(env: Env, sessionId: string): Promise<void> {
  return sessions.deleteSession(env.DB, sessionId);
}
