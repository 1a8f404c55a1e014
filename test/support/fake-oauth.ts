import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenLoopback } from "./loopback.js";

/**
 * A fake OAuth 2.0 authorization server that is also a fake HubSpot (the search API), on
 * 127.0.0.1. The authorize page has Approve and Deny buttons; the token endpoint checks the
 * code, its redirect_uri, the client secret and (when a challenge was sent) the PKCE verifier,
 * as RFC 6749 4.1.3 and RFC 7636 4.6 say a real server does. The search answers only to an
 * access token this server issued.
 */
export interface FakeOAuth {
  url: string;
  client: { id: string; secret: string };
  /** What the server saw: authorize requests and token exchanges, for assertions. */
  seen: { authorize: URLSearchParams[]; exchanges: Array<{ grant: string; ok: boolean; reason?: string }> };
  close(): Promise<void>;
}

type Grant = { clientId: string; redirectUri: string; challenge: string | null; used: boolean };

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

export async function startFakeOAuth(client = { id: "fake-client-id", secret: "fake-client-secret" }): Promise<FakeOAuth> {
  const codes = new Map<string, Grant>();
  const refreshTokens = new Set<string>();
  const accessTokens = new Set<string>();
  const seen: FakeOAuth["seen"] = { authorize: [], exchanges: [] };

  const tokenEndpoint = (form: URLSearchParams, res: ServerResponse) => {
    const grant = form.get("grant_type") ?? "";
    const refuse = (reason: string) => {
      seen.exchanges.push({ grant, ok: false, reason });
      send(res, 400, { error: "invalid_grant", error_description: reason });
    };
    if (form.get("client_id") !== client.id || form.get("client_secret") !== client.secret) return refuse("client");
    if (grant === "authorization_code") {
      const g = codes.get(form.get("code") ?? "");
      if (!g || g.used) return refuse("code");
      g.used = true;
      if (g.clientId !== client.id || g.redirectUri !== form.get("redirect_uri")) return refuse("redirect_uri");
      if (g.challenge !== null && s256(form.get("code_verifier") ?? "") !== g.challenge) return refuse("code_verifier");
    } else if (grant === "refresh_token") {
      if (!refreshTokens.has(form.get("refresh_token") ?? "")) return refuse("refresh_token");
    } else return refuse("grant_type");
    const access = token();
    accessTokens.add(access);
    const refresh = form.get("refresh_token") ?? token();
    refreshTokens.add(refresh);
    seen.exchanges.push({ grant, ok: true });
    send(res, 200, { token_type: "bearer", access_token: access, refresh_token: refresh, expires_in: 1800 });
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://x");
      const q = url.searchParams;
      if (req.method === "GET" && url.pathname === "/oauth/authorize") {
        seen.authorize.push(q);
        const keep = ["client_id", "redirect_uri", "state", "code_challenge"].map((k) => `<input type="hidden" name="${k}" value="${esc(q.get(k) ?? "")}">`).join("");
        return send(
          res,
          200,
          `<!doctype html><title>Fake CRM consent</title><h1>Allow ${esc(q.get("client_id") ?? "")} to read your CRM?</h1>
<form method="get" action="/oauth/decide">${keep}<button name="decision" value="approve">Approve</button> <button name="decision" value="deny">Deny</button></form>`,
        );
      }
      if (req.method === "GET" && url.pathname === "/oauth/decide") {
        const back = new URL(q.get("redirect_uri") ?? "");
        back.searchParams.set("state", q.get("state") ?? "");
        if (q.get("decision") === "approve") {
          const code = token();
          codes.set(code, { clientId: q.get("client_id") ?? "", redirectUri: q.get("redirect_uri") ?? "", challenge: q.get("code_challenge") || null, used: false });
          back.searchParams.set("code", code);
        } else back.searchParams.set("error", "access_denied");
        return send(res, 302, "", { location: back.toString() });
      }
      if (req.method === "POST" && url.pathname === "/oauth/v1/token") return tokenEndpoint(new URLSearchParams(await readBody(req)), res);
      if (req.method === "POST" && /^\/crm\/v3\/objects\/[^/]+\/search$/.test(url.pathname)) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (!bearer || !accessTokens.has(bearer)) return send(res, 401, { status: "error", category: "INVALID_AUTHENTICATION" });
        const body = JSON.parse(await readBody(req)) as { filterGroups: Array<{ filters: Array<{ value: string }> }> };
        const id = body.filterGroups[0]?.filters[0]?.value ?? "";
        return send(res, 200, { total: 1, results: [{ id: "1", properties: { customer_id: id, plan: "gold" } }] });
      }
      send(res, 404, { error: "not_found" });
    })().catch(() => send(res, 500, { error: "fake oauth failed" }));
  });
  const l = await listenLoopback(server);
  return { url: l.url, client, seen, close: l.close };
}
