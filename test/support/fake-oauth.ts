import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenLoopback } from "./loopback.js";

/**
 * A fake OAuth 2.0 authorization server for one CRM, plus that CRM's search API, on 127.0.0.1.
 * Two listeners: `url` is the CRM's login/accounts host (consent page and token endpoint);
 * `apiUrl` is the API host. Where the CRM names the API host in its token reply (Zoho and
 * Pipedrive `api_domain`, Salesforce `instance_url`), the API answers on `apiUrl` only, so a
 * worker that ignored the reply would fail its lookups.
 *
 * The authorize page has Approve and Deny buttons. Every request is checked against what that
 * CRM's public documentation requires (authorize parameters, scopes, PKCE S256, how the client
 * authenticates at the token endpoint); each departure is recorded in `seen.violations` and the
 * token endpoint refuses as the CRM would (RFC 6749 4.1.3, RFC 7636 4.6). The API answers only
 * to an access token this server issued.
 */
export type FakeProvider = "hubspot" | "pipedrive" | "zendesk" | "zoho" | "salesforce" | "dynamics365";

export interface FakeOAuth {
  provider: FakeProvider;
  url: string;
  apiUrl: string;
  /** Entra ID's directory (tenant) id, which must appear in the authorize and token paths. */
  entraTenant: string;
  client: { id: string; secret: string };
  seen: {
    authorize: URLSearchParams[];
    exchanges: Array<{ grant: string; ok: boolean; reason?: string }>;
    violations: string[];
    /** Every token this server handed out, to check none of them reaches a page or an API reply. */
    issued: string[];
  };
  close(): Promise<void>;
}

type Grant = { clientId: string; redirectUri: string; challenge: string | null; used: boolean };
type Answer = { status: number; body: unknown };

type Spec = {
  authorizePath: string;
  tokenPath: string;
  /** Pipedrive: HTTP Basic only; the others: client_id and client_secret in the form. */
  clientAuth: "basic" | "body";
  /** The CRM documents PKCE and the worker must use it (S256). */
  pkce: boolean;
  /** Checks the authorize request's scope (null when it may be absent). */
  scope: (scope: string | null) => string | null;
  /** Parameters the authorize request must carry with exactly these values. */
  authorizeParams?: Record<string, string>;
  /** Parameters the code exchange must carry with exactly these values. */
  tokenParams?: Record<string, string>;
  /** Added to the redirect back to the worker after an approval. */
  callbackExtra?: (f: { url: string; apiUrl: string }) => Record<string, string>;
  /** Added to the token reply. */
  replyExtra?: (f: { url: string; apiUrl: string }) => Record<string, string>;
  /** Salesforce's token reply has no expires_in. */
  expiresIn: boolean;
  /** The API is served on the API listener only (the reply named it). */
  apiOnApiHost: boolean;
  authScheme: "Bearer" | "Zoho-oauthtoken";
  api: (method: string, path: string, q: URLSearchParams, body: string) => Answer | null;
};

const exact = (want: string) => (got: string | null) => (got === want ? null : `scope ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);

function specFor(provider: FakeProvider, entraTenant: string, apiUrl: () => string): Spec {
  switch (provider) {
    case "hubspot":
      return {
        authorizePath: "/oauth/authorize",
        tokenPath: "/oauth/v1/token",
        clientAuth: "body",
        pkce: false,
        scope: exact("crm.objects.contacts.read"),
        expiresIn: true,
        apiOnApiHost: false,
        authScheme: "Bearer",
        api: (method, path, _q, body) => {
          if (method !== "POST" || path !== "/crm/v3/objects/contacts/search") return null;
          const id = (JSON.parse(body) as { filterGroups: Array<{ filters: Array<{ value: string }> }> }).filterGroups[0]?.filters[0]?.value ?? "";
          return { status: 200, body: { total: 1, results: [{ id: "1", properties: { customer_id: id, plan: "gold" } }] } };
        },
      };
    case "pipedrive": {
      let lastId = "";
      return {
        authorizePath: "/oauth/authorize",
        tokenPath: "/oauth/token",
        clientAuth: "basic",
        pkce: false,
        // Scopes are chosen on the app in the Developer Hub; the request carries none.
        scope: (s) => (s === null ? null : `scope ${s} sent, Pipedrive takes none`),
        replyExtra: (f) => ({ api_domain: f.apiUrl, scope: "base,contacts:read" }),
        expiresIn: true,
        apiOnApiHost: true,
        authScheme: "Bearer",
        api: (method, path, q) => {
          if (method === "GET" && path === "/api/v2/persons/search") {
            lastId = q.get("term") ?? "";
            return { status: 200, body: { success: true, data: { items: [{ result_score: 1, item: { id: 7 } }] } } };
          }
          if (method === "GET" && path === "/api/v2/persons/7") return { status: 200, body: { success: true, data: { id: 7, name: "Ana", custom_fields: { customer_key: lastId }, plan: "gold" } } };
          return null;
        },
      };
    }
    case "zendesk":
      return {
        authorizePath: "/oauth/authorizations/new",
        tokenPath: "/oauth/tokens",
        clientAuth: "body",
        pkce: true,
        scope: exact("read"),
        tokenParams: { scope: "read" },
        expiresIn: true,
        apiOnApiHost: false,
        authScheme: "Bearer",
        api: (method, path, q) => {
          if (method !== "GET" || path !== "/api/v2/users/search") return null;
          const id = q.get("external_id") ?? "";
          return { status: 200, body: { users: [{ id: 11, external_id: id, user_fields: { plan: "gold" } }], count: 1 } };
        },
      };
    case "zoho":
      return {
        authorizePath: "/oauth/v2/auth",
        tokenPath: "/oauth/v2/token",
        clientAuth: "body",
        pkce: false,
        scope: (s) => (s?.split(",").includes("ZohoCRM.modules.READ") ? null : `scope ${JSON.stringify(s)} lacks ZohoCRM.modules.READ`),
        // Without offline there is no refresh token; without consent none on a reconnect.
        authorizeParams: { access_type: "offline", prompt: "consent" },
        callbackExtra: (f) => ({ location: "eu", "accounts-server": f.url }),
        replyExtra: (f) => ({ api_domain: f.apiUrl }),
        expiresIn: true,
        apiOnApiHost: true,
        authScheme: "Zoho-oauthtoken",
        api: (method, path, q) => {
          if (method !== "GET" || path !== "/crm/v6/Contacts/search") return null;
          const id = /equals:(.*)\)$/.exec(q.get("criteria") ?? "")?.[1] ?? "";
          return { status: 200, body: { data: [{ id: "1", Customer_Id: id, Plan: "gold" }], info: { count: 1 } } };
        },
      };
    case "salesforce":
      return {
        authorizePath: "/services/oauth2/authorize",
        tokenPath: "/services/oauth2/token",
        clientAuth: "body",
        pkce: true,
        // refresh_token (or offline_access) is what makes Salesforce issue a refresh token.
        scope: (s) => {
          const scopes = s?.split(" ") ?? [];
          return scopes.includes("api") && (scopes.includes("refresh_token") || scopes.includes("offline_access")) ? null : `scope ${JSON.stringify(s)} lacks api and refresh_token`;
        },
        replyExtra: (f) => ({ instance_url: f.apiUrl, id: `${f.url}/id/00D/005`, issued_at: String(Date.now()), signature: "sig" }),
        expiresIn: false,
        apiOnApiHost: true,
        authScheme: "Bearer",
        api: (method, path, q) => {
          if (method !== "GET" || path !== "/services/data/v60.0/query") return null;
          const id = /= '([^']*)'/.exec(q.get("q") ?? "")?.[1] ?? "";
          return { status: 200, body: { totalSize: 1, done: true, records: [{ attributes: { type: "Contact" }, Id: "003", Customer_Id__c: id, Plan__c: "gold" }] } };
        },
      };
    case "dynamics365":
      return {
        authorizePath: `/${entraTenant}/oauth2/v2.0/authorize`,
        tokenPath: `/${entraTenant}/oauth2/v2.0/token`,
        clientAuth: "body",
        pkce: true,
        scope: (s) => {
          const scopes = s?.split(" ") ?? [];
          const want = `${apiUrl()}/user_impersonation`;
          return scopes.includes(want) && scopes.includes("offline_access") ? null : `scope ${JSON.stringify(s)} lacks ${want} and offline_access`;
        },
        expiresIn: true,
        apiOnApiHost: false,
        authScheme: "Bearer",
        api: (method, path, q) => {
          if (method !== "GET" || path !== "/api/data/v9.2/contacts") return null;
          const id = /eq '([^']*)'/.exec(q.get("$filter") ?? "")?.[1] ?? "";
          return { status: 200, body: { "@odata.count": 1, value: [{ contactid: "c1", new_customerid: id, new_plan: "gold" }] } };
        },
      };
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/html; charset=utf-8" : "application/json", ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += chunk;
  return s;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");
const token = () => randomBytes(18).toString("base64url");

export async function startFakeOAuth(provider: FakeProvider = "hubspot", client = { id: `${provider}-client-id`, secret: `${provider}-client-secret-0123` }): Promise<FakeOAuth> {
  const entraTenant = "8f1d2c3b-0000-4a5b-9c6d-7e8f90a1b2c3";
  const codes = new Map<string, Grant>();
  const refreshTokens = new Set<string>();
  const accessTokens = new Set<string>();
  const seen: FakeOAuth["seen"] = { authorize: [], exchanges: [], violations: [], issued: [] };
  const urls = { url: "", apiUrl: "" };
  const spec = specFor(provider, entraTenant, () => urls.apiUrl);

  /** The client as this CRM authenticates it, or why not. */
  const clientOf = (form: URLSearchParams, authorization: string | undefined): string | null => {
    if (spec.clientAuth === "basic") {
      if (form.has("client_secret")) seen.violations.push("client_secret in the body: Pipedrive takes HTTP Basic");
      const m = /^Basic (.+)$/.exec(authorization ?? "");
      const [id, secret] = m ? Buffer.from(m[1]!, "base64").toString().split(":") : [];
      return id === client.id && secret === client.secret ? null : "client";
    }
    if (authorization) seen.violations.push("Authorization header at the token endpoint: this CRM takes the client in the body");
    return form.get("client_id") === client.id && form.get("client_secret") === client.secret ? null : "client";
  };

  const tokenEndpoint = (form: URLSearchParams, authorization: string | undefined, res: ServerResponse) => {
    const grant = form.get("grant_type") ?? "";
    const refuse = (reason: string) => {
      seen.exchanges.push({ grant, ok: false, reason });
      send(res, 400, { error: "invalid_grant", error_description: reason });
    };
    const clientProblem = clientOf(form, authorization);
    if (clientProblem) return refuse(clientProblem);
    if (grant === "authorization_code") {
      const g = codes.get(form.get("code") ?? "");
      if (!g || g.used) return refuse("code");
      g.used = true;
      if (g.clientId !== client.id || g.redirectUri !== form.get("redirect_uri")) return refuse("redirect_uri");
      if (g.challenge !== null && s256(form.get("code_verifier") ?? "") !== g.challenge) return refuse("code_verifier");
      for (const [k, v] of Object.entries(spec.tokenParams ?? {})) if (form.get(k) !== v) seen.violations.push(`token request ${k}=${form.get(k)}, expected ${v}`);
    } else if (grant === "refresh_token") {
      if (!refreshTokens.has(form.get("refresh_token") ?? "")) return refuse("refresh_token");
    } else return refuse("grant_type");
    const access = token();
    accessTokens.add(access);
    const refresh = form.get("refresh_token") ?? token();
    refreshTokens.add(refresh);
    seen.issued.push(access, refresh);
    seen.exchanges.push({ grant, ok: true });
    send(res, 200, {
      token_type: "bearer",
      access_token: access,
      // A refresh grant answers without a new refresh token at Salesforce; the others may rotate it.
      ...(grant === "authorization_code" || provider !== "salesforce" ? { refresh_token: refresh } : {}),
      ...(spec.expiresIn ? { expires_in: 1800 } : {}),
      ...spec.replyExtra?.(urls),
    });
  };

  const authorizeChecks = (q: URLSearchParams) => {
    const v = seen.violations;
    if (q.get("response_type") !== "code") v.push(`response_type ${q.get("response_type")}`);
    for (const k of ["client_id", "redirect_uri", "state"]) if (!q.get(k)) v.push(`authorize without ${k}`);
    const scopeProblem = spec.scope(q.get("scope"));
    if (scopeProblem) v.push(scopeProblem);
    for (const [k, want] of Object.entries(spec.authorizeParams ?? {})) if (q.get(k) !== want) v.push(`authorize ${k}=${q.get(k)}, expected ${want}`);
    if (spec.pkce && (!q.get("code_challenge") || q.get("code_challenge_method") !== "S256")) v.push("authorize without a PKCE S256 challenge");
    if (!spec.pkce && q.has("code_challenge")) v.push("PKCE sent to a CRM that does not document it");
  };

  const handler = (host: "login" | "api") => (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://x");
      const q = url.searchParams;
      if (req.method === "GET" && url.pathname === spec.authorizePath && host === "login") {
        seen.authorize.push(q);
        authorizeChecks(q);
        const keep = ["client_id", "redirect_uri", "state", "code_challenge"].map((k) => `<input type="hidden" name="${k}" value="${esc(q.get(k) ?? "")}">`).join("");
        return send(
          res,
          200,
          `<!doctype html><title>Fake ${provider} consent</title><h1>Allow ${esc(q.get("client_id") ?? "")} to read your CRM?</h1>
<form method="get" action="/_decide">${keep}<button name="decision" value="approve">Approve</button> <button name="decision" value="deny">Deny</button></form>`,
        );
      }
      if (req.method === "GET" && url.pathname === "/_decide") {
        const back = new URL(q.get("redirect_uri") ?? "");
        back.searchParams.set("state", q.get("state") ?? "");
        if (q.get("decision") === "approve") {
          const code = token();
          codes.set(code, { clientId: q.get("client_id") ?? "", redirectUri: q.get("redirect_uri") ?? "", challenge: q.get("code_challenge") || null, used: false });
          back.searchParams.set("code", code);
          for (const [k, v] of Object.entries(spec.callbackExtra?.(urls) ?? {})) back.searchParams.set(k, v);
        } else back.searchParams.set("error", "access_denied");
        return send(res, 302, "", { location: back.toString() });
      }
      if (req.method === "POST" && url.pathname === spec.tokenPath && host === "login") return tokenEndpoint(new URLSearchParams(await readBody(req)), req.headers.authorization, res);
      if (!spec.apiOnApiHost || host === "api") {
        const body = req.method === "POST" ? await readBody(req) : "";
        const m = new RegExp(`^${spec.authScheme} (.+)$`).exec(req.headers.authorization ?? "");
        const answer = spec.api(req.method ?? "", url.pathname, q, body);
        if (answer) {
          if (!m || !accessTokens.has(m[1]!)) return send(res, 401, { error: "invalid_token" });
          return send(res, answer.status, answer.body);
        }
      }
      send(res, 404, { error: "not_found" });
    })().catch(() => send(res, 500, { error: "fake oauth failed" }));
  };
  const login = await listenLoopback(createServer(handler("login")));
  const api = await listenLoopback(createServer(handler("api")));
  urls.url = login.url;
  urls.apiUrl = api.url;
  return {
    provider,
    url: login.url,
    apiUrl: api.url,
    entraTenant,
    client,
    seen,
    close: async () => {
      await Promise.all([login.close(), api.close()]);
    },
  };
}
