import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOAuth, type FakeOAuth, type FakeProvider } from "../support/fake-oauth.js";
import { startEdge, type StartedEdge } from "../support/start-edge.js";

// "Connect with …" end to end for every CRM that has it: Chromium, the real worker in workerd,
// and per CRM a fake authorization server that checks what that CRM documents (fake-oauth.ts).
const CHROMIUM = "/usr/bin/chromium";

let edge: StartedEdge;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const tenant = { id: "oauth-co", admin: "", agent: "" };

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${edge.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return { json: text ? (JSON.parse(text) as Record<string, unknown>) : null, text };
}

async function identify(node: string, id: string) {
  const res = await fetch(`${edge.url}/v1/tenants/${tenant.id}/nodes/${node}/identify`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.agent}`, "content-type": "application/x-www-form-urlencoded" },
    body: `idContact=${id}`,
  });
  return { status: res.status, body: await res.text() };
}

const gold = (path: string) => ({ rules: [{ when: { path, op: "eq", value: "gold" }, destination: "1,3" }], default: "1,9" });

type Case = {
  provider: FakeProvider;
  label: string;
  /** Saved before the consent, with credentials the fake CRM does not accept. */
  config: (f: FakeOAuth) => Record<string, unknown>;
  /** What the stored config shows after the consent (secrets masked). */
  after: (f: FakeOAuth) => Record<string, unknown>;
};

const cases: Case[] = [
  {
    provider: "hubspot",
    label: "HubSpot",
    config: (f) => ({ kind: "hubspot", baseUrl: f.url, accessToken: "private-app-token-not-accepted", idProperty: "customer_id", ...gold("properties.plan") }),
    after: (f) => ({ accessToken: undefined, oauth: { tokenUrl: `${f.url}/oauth/v1/token`, clientId: f.client.id, clientSecret: "***", refreshToken: "***" } }),
  },
  {
    provider: "pipedrive",
    label: "Pipedrive",
    config: (f) => ({ kind: "pipedrive", baseUrl: f.url, apiToken: "api-token-not-accepted", field: "customer_key", ...gold("plan") }),
    // api_domain from the token reply is where the API calls go from now on.
    after: (f) => ({ apiToken: undefined, baseUrl: f.apiUrl, oauth: { tokenUrl: `${f.url}/oauth/token`, clientId: f.client.id, clientSecret: "***", refreshToken: "***" } }),
  },
  {
    provider: "zendesk",
    label: "Zendesk",
    config: (f) => ({ kind: "zendesk", subdomain: "acme", baseUrl: f.url, email: "agent@acme.example", apiToken: "api-token-not-accepted", ...gold("user_fields.plan") }),
    after: (f) => ({ email: undefined, apiToken: undefined, oauth: { tokenUrl: `${f.url}/oauth/tokens`, clientId: f.client.id, clientSecret: "***", refreshToken: "***" } }),
  },
  {
    provider: "zoho",
    label: "Zoho CRM",
    // apiDomain points at the accounts host, which serves no API: only the reply's api_domain works.
    config: (f) => ({ kind: "zoho", apiDomain: f.url, accountsUrl: f.url, module: "Contacts", idField: "Customer_Id", clientId: "placeholder", clientSecret: "placeholder", ...gold("Plan") }),
    after: (f) => ({ apiDomain: f.apiUrl, accountsUrl: f.url, clientId: f.client.id, clientSecret: "***", refreshToken: "***" }),
  },
  {
    provider: "salesforce",
    label: "Salesforce",
    // instanceUrl is the My Domain login host here; the reply's instance_url is the API host.
    config: (f) => ({ kind: "salesforce", instanceUrl: f.url, sobject: "Contact", idField: "Customer_Id__c", auth: { type: "bearer", token: "session-not-accepted" }, ...gold("Plan__c") }),
    after: (f) => ({ instanceUrl: f.apiUrl, auth: { type: "oauth", tokenUrl: `${f.url}/services/oauth2/token`, clientId: f.client.id, clientSecret: "***", refreshToken: "***" } }),
  },
  {
    provider: "dynamics365",
    label: "Dynamics 365",
    config: (f) => ({
      kind: "dynamics365",
      orgUrl: f.apiUrl,
      tokenUrl: `${f.url}/${f.entraTenant}/oauth2/v2.0/token`,
      clientId: "placeholder",
      clientSecret: "placeholder",
      idField: "new_customerid",
      ...gold("new_plan"),
    }),
    after: (f) => ({ tokenUrl: `${f.url}/${f.entraTenant}/oauth2/v2.0/token`, clientId: f.client.id, clientSecret: "***", refreshToken: "***" }),
  },
];

const fakes = new Map<FakeProvider, FakeOAuth>();

async function setLang(lang: "en" | "es") {
  await page.goto(`${edge.url}/ui/lang/${lang}?back=/ui/connectors`);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  edge = await startEdge();
  for (const c of cases) fakes.set(c.provider, await startFakeOAuth(c.provider));
  await api("PUT", `/v1/tenants/${tenant.id}`, edge.operatorToken, { name: tenant.id });
  tenant.admin = (await api("POST", `/v1/tenants/${tenant.id}/keys`, edge.operatorToken, { role: "admin" })).json!.key as string;
  tenant.agent = (await api("POST", `/v1/tenants/${tenant.id}/keys`, edge.operatorToken, { role: "agent" })).json!.key as string;
  for (const c of cases) {
    await api("PUT", `/v1/tenants/${tenant.id}/connectors/${c.provider}`, tenant.admin, c.config(fakes.get(c.provider)!));
    await api("PUT", `/v1/tenants/${tenant.id}/nodes/${c.provider}`, tenant.admin, {
      name: c.provider,
      interaction: "crm_destination",
      connector: c.provider,
      successDestination: { type: 1, id: 1 },
      failureDestination: { type: 1, id: 2 },
    });
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"] });
  context = await browser.newContext({ locale: "en-US" });
  page = await context.newPage();
  await page.goto(`${edge.url}/ui/login`);
  await page.getByLabel("Admin key").fill(tenant.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/ui\/nodes$/);
}, 180_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await Promise.all([edge?.close(), ...[...fakes.values()].map((f) => f.close())]);
}, 60_000);

for (const c of cases) {
  describe(`Connect with ${c.label} in a real browser`, () => {
    let fake: FakeOAuth;
    let approvedCallback = "";
    const connectorPage = () => `${edge.url}/ui/connectors/${c.provider}`;

    /** From the connector page to the fake CRM's consent page. */
    async function connect(labels = { clientId: "Client id of your OAuth app", clientSecret: "Client secret", button: `Connect with ${c.label}` }, clientSecret = fake.client.secret) {
      await page.goto(connectorPage());
      // The connector's own form may have a "Client secret" too: fill the Connect card's.
      const card = page.locator('section[aria-labelledby="oauth-title"]');
      await card.getByLabel(labels.clientId).fill(fake.client.id);
      await card.getByLabel(labels.clientSecret).fill(clientSecret);
      await card.getByRole("button", { name: labels.button }).click();
      await page
        .waitForURL((u) => u.href.startsWith(`${fake.url}/`) && u.href.includes("response_type=code"), { timeout: 15_000 })
        .catch(async (e: unknown) => {
          // Say where the browser ended up instead of a bare timeout.
          throw new Error(`not at the consent page but ${page.url()}: ${(await page.locator("main").textContent().catch(() => ""))?.slice(0, 600)}`, { cause: e });
        });
    }
    const alertText = () => page.getByRole("alert").first().textContent();

    beforeAll(() => {
      fake = fakes.get(c.provider)!;
    });

    it("before the consent, a lookup with the credentials the CRM refuses does not route", async () => {
      expect((await identify(c.provider, "4242")).body).not.toContain("1,3");
    });

    it("deny at the CRM: back on the connector page with a clear message in English and in Spanish, nothing stored", async () => {
      const before = (await api("GET", `/v1/tenants/${tenant.id}/connectors/${c.provider}`, tenant.admin)).text;
      await connect();
      await page.getByRole("button", { name: "Deny" }).click();
      await page.waitForURL(new RegExp(`/ui/connectors/${c.provider}\\?oauth=denied$`));
      await expect.poll(alertText).toContain("Access was refused at the CRM");

      await setLang("es");
      await connect({ clientId: "Id de cliente de su aplicación OAuth", clientSecret: "Secreto de cliente", button: `Conectar con ${c.label}` });
      await page.getByRole("button", { name: "Deny" }).click();
      await page.waitForURL(new RegExp(`/ui/connectors/${c.provider}\\?oauth=denied$`));
      await expect.poll(alertText).toContain("Se rechazó el acceso en el CRM");
      await setLang("en");

      expect((await api("GET", `/v1/tenants/${tenant.id}/connectors/${c.provider}`, tenant.admin)).text).toBe(before);
      // (Dynamics 365 tried its client-credentials grant with the placeholder app before: refused, not a code.)
      expect(fake.seen.exchanges.filter((e) => e.grant === "authorization_code")).toEqual([]);
    });

    it("approve: the CRM saw what its docs require, the page says connected, tokens are sealed, identify routes with the CRM's token", async () => {
      await connect();
      const authorize = fake.seen.authorize.at(-1)!;
      expect(authorize.get("redirect_uri")).toBe(`${edge.url}/ui/oauth/callback`);
      const callback = page.waitForRequest((r) => r.url().includes("/ui/oauth/callback"));
      await page.getByRole("button", { name: "Approve" }).click();
      approvedCallback = (await callback).url();
      await page.waitForURL(new RegExp(`/ui/connectors/${c.provider}\\?oauth=connected$`));
      await expect.poll(() => page.getByRole("status").first().textContent()).toContain(`Connected with ${c.label}`);
      expect(fake.seen.exchanges.at(-1)).toEqual({ grant: "authorization_code", ok: true });

      const stored = await api("GET", `/v1/tenants/${tenant.id}/connectors/${c.provider}`, tenant.admin);
      expect(stored.json).toMatchObject(Object.fromEntries(Object.entries(c.after(fake)).filter(([, v]) => v !== undefined)));
      for (const [k, v] of Object.entries(c.after(fake))) if (v === undefined) expect(stored.json).not.toHaveProperty(k);
      // Nothing the CRM issued, nor the client secret, reaches the page or the API.
      const html = await page.content();
      for (const secret of [fake.client.secret, ...fake.seen.issued]) {
        expect(html).not.toContain(secret);
        expect(stored.text).not.toContain(secret);
      }

      const reply = await identify(c.provider, "4242");
      expect(reply.status).toBe(200);
      expect(reply.body).toContain("1,3");
      expect(fake.seen.exchanges.at(-1)).toEqual({ grant: "refresh_token", ok: true });
      expect(fake.seen.violations).toEqual([]);
    });

    it("a replayed callback is refused in English and in Spanish and changes nothing", async () => {
      const before = fake.seen.exchanges.length;
      await page.goto(approvedCallback);
      await page.waitForURL(/\/ui\/(oauth\/finish|connectors\/)/);
      await expect.poll(alertText).toContain("expired or was already used");
      await setLang("es");
      await page.goto(approvedCallback);
      await page.waitForURL(/\/ui\/(oauth\/finish|connectors\/)/);
      await expect.poll(alertText).toContain("caducó o ya se usó");
      await setLang("en");
      expect(fake.seen.exchanges.length).toBe(before);
    });

    it("a wrong client secret: the CRM refuses the code, the page says so, the connection stays", async () => {
      await connect(undefined, "not-the-secret");
      await page.getByRole("button", { name: "Approve" }).click();
      await page.waitForURL(new RegExp(`/ui/connectors/${c.provider}\\?oauth=refused$`));
      await expect.poll(alertText).toContain("The CRM refused the authorization");
      expect((await identify(c.provider, "4243")).body).toContain("1,3");
    });
  });
}

describe("Save and connect from a new connector's form, in a real browser", () => {
  it("HubSpot: one click saves the connector and goes to the consent; after approving, the new connector is connected", async () => {
    const fake = fakes.get("hubspot")!;
    await page.goto(`${edge.url}/ui/connectors/new?kind=hubspot`);
    await page.locator('input[name="id"]').fill("hs-new");
    await page.locator('input[name="baseUrl"]').fill(fake.url);
    await page.locator('input[name="idProperty"]').fill("customer_id");
    // No private-app token: the consent provides the credentials.
    // The form's own `oauth` block has a "Client secret" too (filled by the consent): these are the fieldset's.
    const app = page.getByRole("group", { name: "Connect with HubSpot" });
    await app.getByLabel("Client id of your OAuth app").fill(fake.client.id);
    await app.getByLabel("Client secret").fill(fake.client.secret);
    await page.getByRole("button", { name: "Save and connect with HubSpot" }).click();
    await page.waitForURL((u) => u.href.startsWith(`${fake.url}/oauth/authorize?`));
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(/\/ui\/connectors\/hs-new\?oauth=connected$/);
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Connected with HubSpot");
    const stored = await api("GET", `/v1/tenants/${tenant.id}/connectors/hs-new`, tenant.admin);
    expect(stored.json).toMatchObject({ kind: "hubspot", baseUrl: fake.url, oauth: { clientId: fake.client.id, clientSecret: "***", refreshToken: "***" } });
    for (const secret of [fake.client.secret, ...fake.seen.issued]) expect(stored.text).not.toContain(secret);
    expect(fake.seen.violations).toEqual([]);
  });
});
