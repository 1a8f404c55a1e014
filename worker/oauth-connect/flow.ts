import { z } from "zod";
import { crmFetch } from "../connectors/http.js";
import { tokenRequest } from "../connectors/oauth.js";
import { REPLY_CAP } from "../connectors/reply-budget.js";
import type { Env } from "../env.js";
import { decrypt, encrypt, randomToken, sha256Hex, toBase64 } from "../security/crypto.js";
import type { ServiceContext } from "../services/context.js";
import { putConnector, sealingKeys } from "../services/connectors.js";
import { DomainError, notFound } from "../services/errors.js";
// The one reader of a connector with its secrets open: the consent needs the stored client.
import { getConnector } from "../store/connectors.js";
import { tenantHome } from "../tenant/home.js";
import { crmOwnTokenUrl, providerFor, type Located, type Provider } from "./providers.js";

/** A consent must come back within this long; Zoho's own codes live 2 minutes, people take longer. */
export const STATE_TTL_MS = 10 * 60_000;
export const CALLBACK_PATH = "/ui/oauth/callback";

/** Why a consent did not end in stored tokens; each has its sentence in both languages (i18n.ts). */
export type ConnectFailure = "denied" | "expired" | "refused" | "no_client" | "crm_error";
export class ConnectError extends Error {
  constructor(
    readonly reason: ConnectFailure,
    /** Known once the state proved to be this session's: the admin lands back on that connector's page. */
    readonly connectorId?: string,
  ) {
    super(reason);
  }
}

type Client = { clientId: string; clientSecret: string };
/** `operator`: the client is the operator's app, whose secret may only go to the CRM's own token endpoint. */
type Sealed = { verifier: string; clientId: string; clientSecret: string; redirectUri: string; operator?: true };
type Row = { tenant_id: string; session_id: string; connector_id: string; kind: string; sealed: string; expires_at: number };

const aad = (stateHash: string) => `oauth-state:${stateHash}`;
const key = (env: Env): string => sealingKeys(env).current();
/** A consent started just before ENCRYPTION_KEY was rotated still finishes (its state was sealed under the old key). */
async function openState(env: Env, sealed: string, stateHash: string): Promise<Sealed> {
  let text: string;
  try {
    text = await decrypt(key(env), sealed, aad(stateHash));
  } catch (e) {
    if (!env.ENCRYPTION_KEY_PREVIOUS) throw e;
    text = await decrypt(env.ENCRYPTION_KEY_PREVIOUS, sealed, aad(stateHash));
  }
  return JSON.parse(text) as Sealed;
}

/** Optional settings an operator may set (not declared in wrangler.toml, so read by name). */
function setting(env: Env, name: string): string | undefined {
  const v = (env as unknown as Record<string, unknown>)[name];
  return typeof v === "string" && v.trim() ? v.trim() : undefined;
}

/** One OAuth app for every tenant of a kind: OAUTH_<KIND>_CLIENT_ID and _SECRET. */
export function operatorClient(env: Env, kind: string): Client | null {
  const prefix = `OAUTH_${kind.toUpperCase()}_CLIENT_`;
  const clientId = setting(env, `${prefix}ID`);
  const clientSecret = setting(env, `${prefix}SECRET`);
  return clientId && clientSecret ? { clientId, clientSecret } : null;
}

/** Fixed per deployment: PUBLIC_URL when set (behind a custom domain or proxy), else the worker's own origin. */
export function redirectUri(env: Env, requestUrl: string): string {
  const base = setting(env, "PUBLIC_URL") ?? new URL(requestUrl).origin;
  return `${base.replace(/\/+$/, "")}${CALLBACK_PATH}`;
}

const pkceChallenge = async (verifier: string) =>
  toBase64(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/**
 * The client to use: what the admin typed, else the one stored in the connector (a reconnect),
 * else the operator's app for the kind, else, with nothing typed, the app the connector's own
 * settings name (Zoho, Dynamics 365, Salesforce's oauth auth: "Save and connect" from a new form).
 */
export function pickClient(typed: { clientId?: string | undefined; clientSecret?: string | undefined }, provider: Provider, operator: Client | null): Client | null {
  const id = typed.clientId?.trim();
  const secret = typed.clientSecret?.trim();
  if (id && secret) return { clientId: id, clientSecret: secret };
  if (id && provider.storedClient?.clientId === id) return { clientId: id, clientSecret: provider.storedClient.clientSecret };
  if (!id && operator) return operator;
  if (!id && !secret && provider.storedClient) return { clientId: provider.storedClient.clientId, clientSecret: provider.storedClient.clientSecret };
  return null;
}

export type Start = { tenant: string; sessionId: string; connectorId: string; clientId?: string | undefined; clientSecret?: string | undefined; requestUrl: string };

/** Records a single-use state bound to session, tenant and connector, and returns where to send the browser. */
export async function startConnect(ctx: ServiceContext, s: Start): Promise<{ url: string; label: string }> {
  const env = ctx.env;
  const stored = await getConnector(env.DB, sealingKeys(env), s.tenant, s.connectorId);
  if (!stored) throw notFound("connector");
  const provider = providerFor(stored.config);
  if (!provider) throw new DomainError("validation_failed", "this kind has no OAuth consent flow");
  // The operator's app is every tenant's: offered only where the code is redeemed at the CRM itself.
  const operator = crmOwnTokenUrl(stored.config.kind, provider.tokenUrl) ? operatorClient(env, stored.config.kind) : null;
  const client = pickClient(s, provider, operator);
  if (!client) throw new ConnectError("no_client");
  const state = randomToken(32);
  const verifier = randomToken(48);
  const stateHash = await sha256Hex(state);
  const redirect = redirectUri(env, s.requestUrl);
  const sealed: Sealed = { verifier, ...client, redirectUri: redirect, ...(client === operator ? { operator: true as const } : {}) };
  const now = Date.now();
  await env.DB.batch([
    // Consents never finished are dropped as new ones start: the table stays small without a cron.
    env.DB.prepare("DELETE FROM oauth_states WHERE expires_at <= ?").bind(now),
    env.DB.prepare("INSERT INTO oauth_states (state_hash, tenant_id, session_id, connector_id, kind, sealed, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(
      stateHash,
      s.tenant,
      s.sessionId,
      s.connectorId,
      stored.config.kind,
      await encrypt(key(env), JSON.stringify(sealed), aad(stateHash)),
      now + STATE_TTL_MS,
    ),
  ]);
  const url = new URL(provider.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", redirect);
  url.searchParams.set("state", state);
  if (provider.scope) url.searchParams.set("scope", provider.scope);
  for (const [k, v] of Object.entries(provider.extra ?? {})) url.searchParams.set(k, v);
  if (provider.pkce) {
    url.searchParams.set("code_challenge", await pkceChallenge(verifier));
    url.searchParams.set("code_challenge_method", "S256");
  }
  return { url: url.toString(), label: provider.label };
}

const webUrl = z.url({ protocol: /^https?$/ }).max(2048);
const tokenReply = z
  .object({
    refresh_token: z.string().min(1).max(4096),
    // Zoho and Pipedrive: the account's API host; Salesforce: the org's. Kept only when a URL.
    api_domain: webUrl.optional().catch(undefined),
    instance_url: webUrl.optional().catch(undefined),
  })
  .loose();

export type Finish = {
  tenant: string;
  sessionId: string;
  state: string | undefined;
  code: string | undefined;
  error: string | undefined;
  /** Zoho's `accounts-server` on the callback: where its code is redeemed. */
  accountsServer?: string | undefined;
};

/**
 * Consumes the state (once, whatever follows), checks it belongs to this session and tenant and
 * is fresh, trades the code for tokens and stores them in the connector. Returns the connector id.
 */
export async function finishConnect(ctx: ServiceContext, f: Finish): Promise<string> {
  const env = ctx.env;
  if (!f.state || f.state.length > 200) throw new ConnectError("expired");
  const stateHash = await sha256Hex(f.state);
  // Consumed only by the session and tenant that started it: another session presenting a stolen
  // state is refused like an unknown one and cannot burn the admin's consent either.
  const row = await env.DB.prepare(
    "DELETE FROM oauth_states WHERE state_hash = ? AND tenant_id = ? AND session_id = ? RETURNING tenant_id, session_id, connector_id, kind, sealed, expires_at",
  )
    .bind(stateHash, f.tenant, f.sessionId)
    .first<Row>();
  if (!row) throw new ConnectError("expired");
  const id = row.connector_id;
  if (row.expires_at <= Date.now()) throw new ConnectError("expired", id);
  // RFC 6749 4.1.2.1: the user (or the CRM) refused; the connector stays as it was.
  if (f.error !== undefined) throw new ConnectError(f.error === "access_denied" ? "denied" : "refused", id);
  if (!f.code || f.code.length > 4096) throw new ConnectError("refused", id);
  const sealed = await openState(env, row.sealed, stateHash);
  const stored = await getConnector(env.DB, sealingKeys(env), f.tenant, row.connector_id);
  // Deleted, or changed to another kind, while the admin was at the CRM.
  const provider = stored && stored.config.kind === row.kind ? providerFor(stored.config) : null;
  if (!stored || !provider) throw new ConnectError("expired");
  const tokenUrl = provider.tokenUrlFrom ? provider.tokenUrlFrom(f.accountsServer) : provider.tokenUrl;
  // An accounts server that is not Zoho's: the code and the client secret are not sent there.
  if (!tokenUrl) throw new ConnectError("refused", id);
  // Zoho's callback names where the code is redeemed: the operator's secret still goes only to Zoho.
  if (sealed.operator && !crmOwnTokenUrl(row.kind, tokenUrl)) throw new ConnectError("refused", id);
  let got: { refreshToken: string; located: Located };
  try {
    got = await exchange(env, provider, tokenUrl, sealed, f.code);
  } catch (e) {
    throw e instanceof ConnectError ? new ConnectError(e.reason, id) : e;
  }
  await putConnector(ctx, f.tenant, row.connector_id, provider.apply({ tokenUrl, clientId: sealed.clientId, clientSecret: sealed.clientSecret, refreshToken: got.refreshToken }, got.located));
  // The consent lands on a GET (the CRM's redirect), which bumpOnWrite does not see: move the
  // tenant's config version here, or other isolates would keep the old credentials.
  await tenantHome(env, f.tenant).bump(f.tenant);
  return row.connector_id;
}

/** RFC 6749 4.1.3 (+ RFC 7636 4.5): the code, the same redirect URI, the client and the PKCE verifier. */
async function exchange(env: Env, provider: Provider, tokenUrl: string, sealed: Sealed, code: string): Promise<{ refreshToken: string; located: Located }> {
  const form = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: sealed.redirectUri, ...provider.tokenParams });
  const headers = tokenRequest(form, { clientId: sealed.clientId, clientSecret: sealed.clientSecret, clientAuth: provider.clientAuth });
  if (provider.pkce) form.set("code_verifier", sealed.verifier);
  let res: Awaited<ReturnType<typeof crmFetch>>;
  try {
    res = await crmFetch(
      tokenUrl,
      { method: "POST", headers, body: form.toString() },
      { signal: AbortSignal.timeout(10_000), allowPrivate: env.ALLOW_PRIVATE_CRM_URLS === "true", maxBytes: REPLY_CAP.token },
    );
  } catch {
    throw new ConnectError("crm_error");
  }
  if (res.status < 200 || res.status >= 300) throw new ConnectError(res.status === 400 || res.status === 401 ? "refused" : "crm_error");
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new ConnectError("crm_error");
  }
  const parsed = tokenReply.safeParse(body);
  // No refresh token (Zoho without access_type=offline, an app without offline scope): nothing lasting to store.
  if (!parsed.success) throw new ConnectError("refused");
  return { refreshToken: parsed.data.refresh_token, located: { apiDomain: parsed.data.api_domain, instanceUrl: parsed.data.instance_url } };
}
