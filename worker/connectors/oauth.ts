import { z } from "zod";
import { BoundedCache } from "../../shared/bounded-cache.js";
import { boundedWait } from "../../shared/bounded-wait.js";
import { secret, tokenUrl } from "../../shared/connector.js";
import { basicAuth } from "./http.js";
import { sha256Hex } from "../security/crypto.js";
import { CrmError, crmStatusError, isThrottled } from "./errors.js";
import { crmFetch } from "./http.js";
import { REPLY_CAP } from "./reply-budget.js";
import type { LookupContext } from "./types.js";

/** What a token endpoint needs; which grant follows from whether a refresh token is given. */
export type OAuthGrant = {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken?: string | undefined;
  scope?: string | undefined;
  /** Pipedrive takes the client in an Authorization: Basic header, not in the form. */
  clientAuth?: "body" | "basic" | undefined;
};

/**
 * An OAuth app and the refresh token "Connect with …" obtained (worker/oauth-connect/): the
 * access token is fetched and renewed from it like every other OAuth connector's.
 */
export const oauthRefresh = (defaultTokenUrl?: string) =>
  z
    .object({
      // Zendesk's token endpoint is on each account's own subdomain: no default there.
      tokenUrl: defaultTokenUrl ? tokenUrl.default(defaultTokenUrl) : tokenUrl,
      clientId: z.string().min(1).max(500),
      clientSecret: secret,
      refreshToken: secret,
    })
    .strict();
export type OAuthRefresh = z.infer<ReturnType<typeof oauthRefresh>>;

export type OAuthOptions = {
  /** Lifetime assumed when the endpoint sends no expires_in (Salesforce never does). */
  defaultTtlSeconds: number;
};

type Token = { value: string; expiresAt: number };

// Per isolate: a token lives as long as the isolate or its expiry, whichever ends first.
// Keyed by tenant, connector and a hash of the credentials, so a changed secret never reuses
// the old token and two tenants never share one.
const tokens = new BoundedCache<string, Token>({ max: 2000 });
// eslint-disable-next-line no-restricted-syntax -- token fetches in flight: each entry is deleted when its fetch settles
const fetching = new Map<string, Promise<Token>>();
/** The longest any connector may wait (SPEC 4: timeoutMs max 10 000). */
const TOKEN_TIMEOUT_MS = 10_000;

const tokenReply = z.object({
  access_token: z.string().min(1).optional(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).optional(),
  error: z.string().optional(),
});

async function keyOf(ctx: LookupContext, grant: OAuthGrant): Promise<string> {
  const creds = await sha256Hex(JSON.stringify([grant.tokenUrl, grant.clientId, grant.clientSecret, grant.refreshToken ?? "", grant.scope ?? "", grant.clientAuth ?? "body"]));
  return `${ctx.tenant}\u0000${ctx.connectorId}\u0000${creds}`;
}

/**
 * A token endpoint request's form and headers, with the client authenticated as the CRM wants it
 * (RFC 6749 2.3.1: HTTP Basic, or client_id/client_secret in the body). Shared by the refresh
 * here and the consent's code exchange (worker/oauth-connect/flow.ts).
 */
export function tokenRequest(form: URLSearchParams, client: { clientId: string; clientSecret: string; clientAuth?: "basic" | "body" | undefined }): Record<string, string> {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };
  if (client.clientAuth === "basic") headers.Authorization = basicAuth(client.clientId, client.clientSecret);
  else {
    form.set("client_id", client.clientId);
    form.set("client_secret", client.clientSecret);
  }
  return headers;
}

async function requestToken(ctx: LookupContext, grant: OAuthGrant, opts: OAuthOptions): Promise<Token> {
  const form = new URLSearchParams({ grant_type: grant.refreshToken ? "refresh_token" : "client_credentials" });
  const headers = tokenRequest(form, grant);
  if (grant.refreshToken) form.set("refresh_token", grant.refreshToken);
  if (grant.scope) form.set("scope", grant.scope);
  const res = await crmFetch(
    grant.tokenUrl,
    { method: "POST", headers, body: form.toString() },
    { ...ctx.http, maxBytes: REPLY_CAP.token },
  );
  // OAuth servers answer a bad client or grant with 400 (RFC 6749 5.2): that is a credentials problem.
  if (res.status === 400) throw new CrmError("crm_auth", "the token endpoint refused the client or grant");
  if (res.status < 200 || res.status >= 300) throw crmStatusError(res.status, res.headers);
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new CrmError("crm_bad_reply", "token endpoint reply is not JSON");
  }
  const parsed = tokenReply.safeParse(body);
  if (!parsed.success) throw new CrmError("crm_bad_reply", "token endpoint reply does not have the documented shape");
  // Zoho answers an invalid refresh token with HTTP 200 and {"error": "invalid_code"}.
  if (parsed.data.error !== undefined || !parsed.data.access_token) throw new CrmError("crm_auth", "the token endpoint refused the client or grant");
  const lifetime = parsed.data.expires_in !== undefined ? Number(parsed.data.expires_in) : opts.defaultTtlSeconds;
  // Renew a little before the CRM would start refusing it, so a call never carries a token about to die.
  const margin = Math.min(60, lifetime / 10);
  return { value: parsed.data.access_token, expiresAt: Date.now() + (lifetime - margin) * 1000 };
}

/** A valid access token: the cached one, or one fetched once however many lookups ask at the same time. */
async function accessToken(key: string, ctx: LookupContext, grant: OAuthGrant, opts: OAuthOptions): Promise<string> {
  const cached = tokens.get(key);
  // Kept only until expiresAt (the cache's TTL).
  if (cached) return cached.value;
  let flight = fetching.get(key);
  if (!flight) {
    // The shared request has its own deadline: the first caller's short budget (X-Deadline-Ms)
    // must not fail every lookup waiting on the same token.
    const shared = { ...ctx, http: { ...ctx.http, signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) } };
    flight = requestToken(shared, grant, opts).then(
      (t) => {
        tokens.set(key, t, t.expiresAt - Date.now());
        return t;
      },
    );
    fetching.set(key, flight);
    const forget = () => fetching.delete(key);
    flight.then(forget, forget);
  }
  // Waits no longer than this caller's own deadline.
  return (await boundedWait(flight, { signal: ctx.http.signal }, () => new CrmError("crm_timeout", "CRM did not answer in time"))).value;
}

function dropToken(key: string, value: string) {
  // Only the token that failed: a concurrent lookup may already have stored a newer one.
  if (tokens.get(key)?.value === value) tokens.delete(key);
}

type Reply = Awaited<ReturnType<typeof crmFetch>>;

/**
 * Runs a CRM call with a bearer token from the grant. A 401/403 drops the token and the call
 * is tried once more with a fresh one: tokens die early (revoked, session timeout changed).
 * A 403 that says "too many requests" (Salesforce's REQUEST_LIMIT_EXCEEDED) is not about the
 * token: retrying would spend a token request and a second call on a CRM asking us to stop.
 */
export async function withAccessToken(ctx: LookupContext, grant: OAuthGrant, opts: OAuthOptions, call: (token: string) => Promise<Reply>): Promise<Reply> {
  const key = await keyOf(ctx, grant);
  const first = await accessToken(key, ctx, grant, opts);
  const reply = await call(first);
  if ((reply.status !== 401 && reply.status !== 403) || isThrottled(reply.status, reply.text)) return reply;
  dropToken(key, first);
  return call(await accessToken(key, ctx, grant, opts));
}

/** Tests only: start from an empty token cache. */
export function forgetTokens() {
  tokens.clear();
  fetching.clear();
}
