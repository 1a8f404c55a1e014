import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connectorConfig, type ConnectorConfig } from "../../worker/connectors/registry.js";
import { ConnectError, finishConnect, pickClient, startConnect } from "../../worker/oauth-connect/flow.js";
import { crmOwnTokenUrl, providerFor } from "../../worker/oauth-connect/providers.js";
import type { ServiceContext } from "../../worker/services/context.js";
import { formValues } from "./form-values.js";
import { call, crmCalls, crmUrl, identify, json, newTenant, putConnector, putNode } from "./helpers.js";

/** Keeps cookies, never follows redirects, echoes the page's CSRF token (as test/edge/ui.test.ts). */
class Browser {
  cookies = new Map<string, string>();
  csrf = "";
  async fetch(method: string, path: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const body = form ? new URLSearchParams(form).toString() : undefined;
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await (exports as unknown as { default: Fetcher }).default.fetch(`http://edge.test${path}`, { method, headers, body, redirect: "manual" });
    for (const sc of res.headers.getAll("set-cookie")) {
      const [pair] = sc.split(";");
      const eq = pair!.indexOf("=");
      if (pair!.slice(eq + 1) === "" || /max-age=0/i.test(sc)) this.cookies.delete(pair!.slice(0, eq));
      else this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }
  async page(path: string) {
    const res = await this.fetch("GET", path);
    const html = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (m) this.csrf = m[1]!;
    return { res, html };
  }
  post(path: string, form: Record<string, string>) {
    return this.fetch("POST", path, { _csrf: this.csrf, ...form });
  }
  static async signedIn(key: string) {
    const b = new Browser();
    await b.page("/ui/login");
    expect((await b.post("/ui/login", { key })).status).toBe(303);
    await b.page("/ui/connectors");
    return b;
  }
  /** Starts a consent and returns the authorize URL the hop page sends the browser to. */
  async start(connector: string, form: Record<string, string> = { oauthClientId: "cid", oauthClientSecret: "csecret" }): Promise<URL> {
    const res = await this.post(`/ui/connectors/${connector}/oauth`, form);
    expect(res.status).toBe(200);
    const html = await res.text();
    const to = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(html)?.[1];
    expect(to).toBeDefined();
    return new URL(to!.replace(/&amp;/g, "&"));
  }
  /** The browser coming back from the CRM: the callback's hop, then /ui/oauth/finish. */
  async back(query: Record<string, string>) {
    const hop = await this.fetch("GET", `/ui/oauth/callback?${new URLSearchParams(query)}`);
    const to = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(await hop.text())?.[1]?.replace(/&amp;/g, "&");
    expect(to).toMatch(/^\/ui\/oauth\/finish\?/);
    return this.fetch("GET", to!);
  }
}

const hubspot = { kind: "hubspot", baseUrl: "http://127.0.0.1:9/hubspot", accessToken: "pat-original", idProperty: "customer_id", default: "true" };

async function setUp() {
  const t = await newTenant("oauth");
  await putConnector(t, "hs", hubspot);
  return t;
}

const storedConfig = async (t: { id: string; admin: string }) => json(await call("GET", `/v1/tenants/${t.id}/connectors/hs`, { token: t.admin }));

describe("Connect with …: state bound to session and tenant", () => {
  it("the authorize URL carries a state, the fixed redirect URI and the kind's scope; PKCE only where the CRM takes it", async () => {
    const t = await setUp();
    const b = await Browser.signedIn(t.admin);
    const url = await b.start("hs");
    expect(url.origin + url.pathname).toBe("http://127.0.0.1:9/hubspot/oauth/authorize");
    expect(url.searchParams.get("redirect_uri")).toBe("http://edge.test/ui/oauth/callback");
    expect(url.searchParams.get("client_id")).toBe("cid");
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(url.searchParams.get("code_challenge")).toBeNull();
    // Only a hash of the state is stored, and the client secret is sealed.
    const rows = await env.DB.prepare("SELECT state_hash, sealed FROM oauth_states WHERE tenant_id = ?").bind(t.id).all<{ state_hash: string; sealed: string }>();
    expect(rows.results).toHaveLength(1);
    expect(JSON.stringify(rows.results)).not.toContain(url.searchParams.get("state")!);
    expect(JSON.stringify(rows.results)).not.toContain("csecret");

    await putConnector(t, "sf", { kind: "salesforce", instanceUrl: "https://x.my.salesforce.com", sobject: "Contact", idField: "Phone", auth: { type: "bearer", token: "x" }, default: "true" });
    const sf = await b.start("sf");
    // The org's My Domain, which serves sandboxes too (login.salesforce.com does not).
    expect(sf.origin + sf.pathname).toBe("https://x.my.salesforce.com/services/oauth2/authorize");
    expect(sf.searchParams.get("code_challenge_method")).toBe("S256");
    expect(sf.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("another tenant's session, or another session of the same tenant, cannot use the state; the owner still can", async () => {
    const t = await setUp();
    const other = await newTenant("oauth-other");
    await putConnector(other, "hs", hubspot);
    const owner = await Browser.signedIn(t.admin);
    const state = (await owner.start("hs")).searchParams.get("state")!;

    const intruder = await Browser.signedIn(other.admin);
    const foreign = await intruder.back({ state, code: "stolen-code" });
    expect(foreign.status).toBe(400);
    expect(await foreign.text()).toContain("expired or was already used");

    const secondSession = await Browser.signedIn(t.admin);
    const sameTenant = await secondSession.back({ state, code: "stolen-code" });
    expect(sameTenant.status).toBe(400);

    // Neither attempt consumed it: the owner's own answer still lands on the connector page.
    const own = await owner.back({ state, error: "access_denied" });
    expect(own.status).toBe(303);
    expect(own.headers.get("location")).toBe("/ui/connectors/hs?oauth=denied");
    const page = await owner.page("/ui/connectors/hs?oauth=denied");
    expect(page.html).toContain("Access was refused at the CRM");
    // Single use: the same state again is refused.
    expect((await owner.back({ state, error: "access_denied" })).status).toBe(400);
    expect((await storedConfig(t)).accessToken).toBe("***");
  });

  it("an expired state is refused and nothing is changed", async () => {
    const t = await setUp();
    const b = await Browser.signedIn(t.admin);
    const state = (await b.start("hs")).searchParams.get("state")!;
    await env.DB.prepare("UPDATE oauth_states SET expires_at = ? WHERE tenant_id = ?").bind(Date.now() - 1, t.id).run();
    const res = await b.back({ state, code: "late-code" });
    expect(res.headers.get("location")).toBe("/ui/connectors/hs?oauth=expired");
    expect((await b.page("/ui/connectors/hs?oauth=expired")).html).toContain("expired or was already used");
    expect(await storedConfig(t)).toMatchObject({ accessToken: "***" });
  });

  it("the Spanish page explains a refused consent in Spanish", async () => {
    const t = await setUp();
    const b = await Browser.signedIn(t.admin);
    b.cookies.set("cb_lang", "es");
    const page = await b.page("/ui/connectors/hs?oauth=denied");
    expect(page.html).toContain("Se rechazó el acceso en el CRM");
    expect(page.html).toContain("Conectar con HubSpot");
  });

  it("without a client typed or configured by the operator, Connect asks for one", async () => {
    const t = await setUp();
    const b = await Browser.signedIn(t.admin);
    const res = await b.post("/ui/connectors/hs/oauth", { oauthClientId: "", oauthClientSecret: "" });
    expect(res.headers.get("location")).toBe("/ui/connectors/hs?oauth=no_client");
  });

  it("the callback without a session only hops to our own finish page (no open redirect)", async () => {
    const res = await call("GET", "/ui/oauth/callback?state=x&code=y&next=https://evil.example/");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('content="0;url=/ui/oauth/finish?state=x&amp;code=y"');
    expect(html).not.toContain("evil.example");
  });
});

describe("Zoho's accounts-server on the callback", () => {
  const zoho = { kind: "zoho", accountsUrl: "http://127.0.0.1:9/zoho", module: "Contacts", idField: "Phone", clientId: "x", clientSecret: "y", default: "true" };

  it("the code is redeemed at the user's data centre when it is one of Zoho's, never at another host", () => {
    const p = providerFor(connectorConfig.parse({ ...zoho, accountsUrl: "https://accounts.zoho.com" }))!;
    expect(p.tokenUrlFrom!(undefined)).toBe("https://accounts.zoho.com/oauth/v2/token");
    expect(p.tokenUrlFrom!("https://accounts.zoho.eu")).toBe("https://accounts.zoho.eu/oauth/v2/token");
    expect(p.tokenUrlFrom!("https://accounts.zohocloud.ca")).toBe("https://accounts.zohocloud.ca/oauth/v2/token");
    for (const evil of ["https://evil.example", "https://accounts.zoho.eu.evil.example", "http://accounts.zoho.eu", "https://accounts.zoho.eu/x"]) expect(p.tokenUrlFrom!(evil)).toBeNull();
    // The applied config follows the data centre the user consented in, and its api_domain.
    const applied = p.apply({ tokenUrl: "https://accounts.zoho.eu/oauth/v2/token", clientId: "c", clientSecret: "s", refreshToken: "r" }, { apiDomain: "https://www.zohoapis.eu" });
    expect(applied).toMatchObject({ accountsUrl: "https://accounts.zoho.eu", apiDomain: "https://www.zohoapis.eu" });
  });

  it("a callback whose accounts-server was swapped for another host is refused without sending the code or the secret anywhere", async () => {
    const t = await newTenant("oauth-zoho");
    await putConnector(t, "zo", zoho);
    const b = await Browser.signedIn(t.admin);
    const state = (await b.start("zo")).searchParams.get("state")!;
    const res = await b.back({ state, code: "a-code", location: "eu", "accounts-server": "https://evil.example" });
    // refused, not crm_error: no request was made at all.
    expect(res.headers.get("location")).toBe("/ui/connectors/zo?oauth=refused");
    expect((await json(await call("GET", `/v1/tenants/${t.id}/connectors/zo`, { token: t.admin }))).refreshToken).toBeUndefined();
  });
});

describe("Save and connect from a new connector's form", () => {
  const hop = async (res: Response) => {
    expect(res.status).toBe(200);
    const to = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(await res.text())?.[1];
    expect(to).toBeDefined();
    return new URL(to!.replace(/&amp;/g, "&"));
  };

  it("HubSpot: the form offers it with the app's client fields; it saves without a token, then goes to the consent", async () => {
    const t = await newTenant("oauth-new");
    const b = await Browser.signedIn(t.admin);
    const { html } = await b.page("/ui/connectors/new?kind=hubspot");
    expect(html).toContain('name="_then" value="connect"');
    expect(html).toContain("Save and connect with HubSpot");
    expect(html).toContain('name="oauthClientId"');
    const form = { ...formValues(html, "/ui/connectors/new"), id: "hs-new", baseUrl: "https://api.hubapi.com", idProperty: "customer_id" };
    const authorize = await hop(await b.post("/ui/connectors/new", { ...form, oauthClientId: "app-id", oauthClientSecret: "app-secret", _then: "connect" }));
    expect(authorize.origin + authorize.pathname).toBe("https://app.hubspot.com/oauth/authorize");
    expect(authorize.searchParams.get("client_id")).toBe("app-id");
    expect(authorize.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Saved, not yet connected: lookups say so instead of calling the CRM without credentials.
    const saved = await json(await call("GET", `/v1/tenants/${t.id}/connectors/hs-new`, { token: t.admin }));
    expect(saved).toMatchObject({ kind: "hubspot", idProperty: "customer_id" });
    expect(saved.accessToken).toBeUndefined();
    expect(saved.oauth).toBeUndefined();
    await putNode(t, "n", { interaction: "crm_destination", connector: "hs-new" });
    const reply = await identify(t, "n", "4242");
    // The failure branch (crm_auth, "not connected yet"), without any call to HubSpot.
    expect(await reply.json()).toEqual({ status: "fail", destination: "false" });
  });

  it("Zoho: the consent uses the app the form itself names; without a client anywhere it still saves and says what is missing", async () => {
    const t = await newTenant("oauth-new");
    const b = await Browser.signedIn(t.admin);
    const { html } = await b.page("/ui/connectors/new?kind=zoho");
    expect(html).toContain("Save and connect with Zoho CRM");
    // Zoho's own settings hold the app: no second client id field.
    expect(html).not.toContain('name="oauthClientId"');
    const form = { ...formValues(html, "/ui/connectors/new"), id: "zo-new", accountsUrl: "https://accounts.zoho.eu", module: "Contacts", idField: "Phone", clientId: "1000.ZOHO", clientSecret: "zoho-secret" };
    const authorize = await hop(await b.post("/ui/connectors/new", { ...form, _then: "connect" }));
    expect(authorize.origin + authorize.pathname).toBe("https://accounts.zoho.eu/oauth/v2/auth");
    expect(authorize.searchParams.get("client_id")).toBe("1000.ZOHO");

    // HubSpot with neither a token nor a client: saved, and the connector page explains.
    const hs = await b.page("/ui/connectors/new?kind=hubspot");
    const res = await b.post("/ui/connectors/new", { ...formValues(hs.html, "/ui/connectors/new"), id: "hs-bare", idProperty: "customer_id", _then: "connect" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui/connectors/hs-bare?oauth=no_client");
    expect((await call("GET", `/v1/tenants/${t.id}/connectors/hs-bare`, { token: t.admin })).status).toBe(200);
  });

  it("an invalid form is not saved and starts nothing, whichever button was pressed", async () => {
    const t = await newTenant("oauth-new");
    const b = await Browser.signedIn(t.admin);
    const { html } = await b.page("/ui/connectors/new?kind=hubspot");
    const res = await b.post("/ui/connectors/new", { ...formValues(html, "/ui/connectors/new"), id: "hs-bad", idProperty: "", oauthClientId: "a", oauthClientSecret: "b", _then: "connect" });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("http-equiv=\"refresh\"");
    expect((await call("GET", `/v1/tenants/${t.id}/connectors/hs-bad`, { token: t.admin })).status).toBe(404);
  });

  it("kinds without the consent flow get no Save and connect; an edit page has the Connect card instead", async () => {
    const t = await newTenant("oauth-new");
    const b = await Browser.signedIn(t.admin);
    expect((await b.page("/ui/connectors/new?kind=rest")).html).not.toContain('name="_then"');
    await putConnector(t, "hs", hubspot);
    const edit = (await b.page("/ui/connectors/hs")).html;
    expect(edit).not.toContain('name="_then"');
    expect(edit).toContain('aria-labelledby="oauth-title"');
  });
});

describe("which client a consent uses", () => {
  const provider = providerFor({ ...hubspot, accessToken: undefined, oauth: { tokenUrl: "https://api.hubapi.com/oauth/v1/token", clientId: "stored-id", clientSecret: "stored-secret", refreshToken: "r" } } as never)!;
  it("typed first, then the stored secret of the same client id, then the operator's app, then the stored app", () => {
    expect(pickClient({ clientId: "a", clientSecret: "b" }, provider, null)).toEqual({ clientId: "a", clientSecret: "b" });
    expect(pickClient({ clientId: "stored-id", clientSecret: "" }, provider, null)).toEqual({ clientId: "stored-id", clientSecret: "stored-secret" });
    // Another client id never gets the stored secret.
    expect(pickClient({ clientId: "other-id", clientSecret: "" }, provider, { clientId: "op", clientSecret: "ops" })).toBeNull();
    expect(pickClient({}, provider, { clientId: "op", clientSecret: "ops" })).toEqual({ clientId: "op", clientSecret: "ops" });
    // Nothing typed, no operator app: the app the connector already names (Save and connect on Zoho, Dynamics 365).
    expect(pickClient({}, provider, null)).toEqual({ clientId: "stored-id", clientSecret: "stored-secret" });
    expect(pickClient({}, providerFor({ ...hubspot } as never)!, null)).toBeNull();
  });
});

describe("each CRM kind's consent endpoints, and the config a consent leaves behind", () => {
  const granted = { clientId: "app-id", clientSecret: "app-secret", refreshToken: "refresh-1" };
  const common = { default: "true" };
  const cases: Array<{ config: Record<string, unknown>; authorize: string; token: string; pkce: boolean }> = [
    { config: { kind: "hubspot", accessToken: "pat", idProperty: "customer_id", ...common }, authorize: "https://app.hubspot.com/oauth/authorize", token: "https://api.hubapi.com/oauth/v1/token", pkce: false },
    { config: { kind: "pipedrive", apiToken: "tok", field: "abc", ...common }, authorize: "https://oauth.pipedrive.com/oauth/authorize", token: "https://oauth.pipedrive.com/oauth/token", pkce: false },
    { config: { kind: "zendesk", subdomain: "acme", email: "a@b.c", apiToken: "tok", ...common }, authorize: "https://acme.zendesk.com/oauth/authorizations/new", token: "https://acme.zendesk.com/oauth/tokens", pkce: true },
    { config: { kind: "zoho", accountsUrl: "https://accounts.zoho.eu", module: "Contacts", idField: "Phone", clientId: "x", clientSecret: "y", ...common }, authorize: "https://accounts.zoho.eu/oauth/v2/auth", token: "https://accounts.zoho.eu/oauth/v2/token", pkce: false },
    { config: { kind: "salesforce", instanceUrl: "https://acme.my.salesforce.com", sobject: "Contact", idField: "Phone", auth: { type: "bearer", token: "t" }, ...common }, authorize: "https://acme.my.salesforce.com/services/oauth2/authorize", token: "https://acme.my.salesforce.com/services/oauth2/token", pkce: true },
    { config: { kind: "dynamics365", orgUrl: "https://acme.crm4.dynamics.com", idField: "telephone1", tokenUrl: "https://login.microsoftonline.com/tid/oauth2/v2.0/token", clientId: "x", clientSecret: "y", ...common }, authorize: "https://login.microsoftonline.com/tid/oauth2/v2.0/authorize", token: "https://login.microsoftonline.com/tid/oauth2/v2.0/token", pkce: true },
  ];
  for (const k of cases) {
    it(`${String(k.config.kind)}: documented endpoints, and the applied config is valid with the tokens in its secret fields`, () => {
      const before = connectorConfig.parse(k.config);
      const p = providerFor(before)!;
      expect([p.authorizeUrl, p.tokenUrl, p.pkce]).toEqual([k.authorize, k.token, k.pkce]);
      const after = connectorConfig.parse(p.apply({ tokenUrl: p.tokenUrl, ...granted }, {})) as ConnectorConfig;
      expect(JSON.stringify(after)).toContain("refresh-1");
      // Applied again (a reconnect), the kind still has exactly one way to authenticate.
      expect(connectorConfig.safeParse(providerFor(after)!.apply({ tokenUrl: p.tokenUrl, ...granted }, {})).success).toBe(true);
    });
  }
  it("kinds without an authorization-code flow get no card", () => {
    expect(providerFor(connectorConfig.parse({ kind: "rest", url: "https://crm.example/{idContact}", default: "true" }))).toBeNull();
  });
});

describe("the operator's OAuth app is only redeemed at the CRM's own token endpoint (issue 9: secrets bound to where they go)", () => {
  const OPERATOR_SECRET = `operator-app-secret-${crypto.randomUUID()}`;
  // Every kind with the consent flow, pointed (by the setting a tenant admin may change) at a server the admin runs.
  const attacks = (base: string): Array<Record<string, unknown>> => [
    { kind: "hubspot", baseUrl: base, idProperty: "customer_id", default: "true" },
    { kind: "pipedrive", baseUrl: base, field: "abc", default: "true" },
    { kind: "zendesk", subdomain: "acme", baseUrl: base, default: "true" },
    { kind: "zoho", accountsUrl: base, module: "Contacts", idField: "Phone", clientId: "own-id", clientSecret: "own-secret", default: "true" },
    { kind: "salesforce", instanceUrl: base, sobject: "Contact", idField: "Phone", auth: { type: "bearer", token: "t" }, default: "true" },
    { kind: "dynamics365", orgUrl: "https://acme.crm4.dynamics.com", idField: "telephone1", tokenUrl: `${base}/oauth2/v2.0/token`, clientId: "own-id", clientSecret: "own-secret", default: "true" },
  ];
  const withOperatorApps = (): ServiceContext => {
    const apps: Record<string, string> = {};
    for (const kind of ["HUBSPOT", "PIPEDRIVE", "ZENDESK", "ZOHO", "SALESFORCE", "DYNAMICS365"]) {
      apps[`OAUTH_${kind}_CLIENT_ID`] = "operator-app";
      apps[`OAUTH_${kind}_CLIENT_SECRET`] = OPERATOR_SECRET;
    }
    return { env: { ...env, ...apps } as typeof env, requestId: "test", actor: "test", defer: () => undefined };
  };

  for (const config of attacks("https://example.invalid")) {
    it(`${String(config.kind)}: a tenant's own server never receives the operator's client secret`, async () => {
      const t = await newTenant("oauth-op");
      const prefix = `${crmUrl()}/u/${crypto.randomUUID()}/echo`;
      const server = `${prefix}/1`;
      const attack = attacks(server).find((c) => c.kind === config.kind)!;
      await putConnector(t, "c", attack);
      const ctx = withOperatorApps();
      const start = { tenant: t.id, sessionId: "session-1", connectorId: "c", requestUrl: "http://edge.test/ui/connectors/c/oauth" };
      let outcome: unknown;
      try {
        // The admin's authorize page sends the browser straight back with a code of its choosing.
        const authorize = new URL((await startConnect(ctx, start)).url);
        outcome = await finishConnect(ctx, { tenant: t.id, sessionId: "session-1", state: authorize.searchParams.get("state") ?? "", code: "any-code", error: undefined });
      } catch (e) {
        outcome = e;
      }
      // Kinds that name their own app in the config still consent with it; the others must type one.
      if (config.kind === "zoho" || config.kind === "dynamics365") {
        expect((await crmCalls(prefix)).last?.body ?? "").not.toContain(encodeURIComponent(OPERATOR_SECRET));
        expect((await crmCalls(prefix)).last?.body ?? "").toContain("own-secret");
      } else {
        expect(outcome).toBeInstanceOf(ConnectError);
        expect((outcome as ConnectError).reason).toBe("no_client");
        expect((await crmCalls(prefix)).count).toBe(0);
      }
      expect(JSON.stringify(await call("GET", `/v1/tenants/${t.id}/connectors/c`, { token: t.admin }).then((r) => r.json()))).not.toContain(OPERATOR_SECRET);
    });
  }

  it("the CRM's own endpoints still take the operator's app", async () => {
    for (const [kind, url] of [
      ["hubspot", "https://api.hubapi.com/oauth/v1/token"],
      ["pipedrive", "https://oauth.pipedrive.com/oauth/token"],
      ["zendesk", "https://acme.zendesk.com/oauth/tokens"],
      ["zoho", "https://accounts.zoho.eu/oauth/v2/token"],
      ["salesforce", "https://acme.my.salesforce.com/services/oauth2/token"],
      ["salesforce", "https://test.salesforce.com/services/oauth2/token"],
      ["dynamics365", "https://login.microsoftonline.com/tid/oauth2/v2.0/token"],
    ] as const) {
      expect(crmOwnTokenUrl(kind, url), url).toBe(true);
    }
    for (const [kind, url] of [
      ["hubspot", "https://api.hubapi.com.evil.example/oauth/v1/token"],
      ["hubspot", "http://api.hubapi.com/oauth/v1/token"],
      ["hubspot", "https://api.hubapi.com:8443/oauth/v1/token"],
      ["hubspot", "https://x@api.hubapi.com/oauth/v1/token"],
      ["pipedrive", "https://evil.example/oauth/token"],
      ["zendesk", "https://acme.zendesk.com.evil.example/oauth/tokens"],
      ["zoho", "https://accounts.zoho.evil/oauth/v2/token"],
      ["salesforce", "https://my.salesforce.com.evil.example/services/oauth2/token"],
      ["dynamics365", "https://login.microsoftonline.com.evil.example/t/oauth2/v2.0/token"],
      ["rest", "https://api.hubapi.com/oauth/v1/token"],
    ] as const) {
      expect(crmOwnTokenUrl(kind, url), url).toBe(false);
    }
    // Nothing typed on a HubSpot connector at the real API: the operator's app is offered.
    const t = await newTenant("oauth-op");
    await putConnector(t, "hs", { kind: "hubspot", idProperty: "customer_id", default: "true" });
    const authorize = new URL((await startConnect(withOperatorApps(), { tenant: t.id, sessionId: "s", connectorId: "hs", requestUrl: "http://edge.test/" })).url);
    expect(authorize.searchParams.get("client_id")).toBe("operator-app");
  });
});
