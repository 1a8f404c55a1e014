import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOAuth, type FakeOAuth } from "../support/fake-oauth.js";
import { startEdge, type StartedEdge } from "../support/start-edge.js";

// "Connect with HubSpot" end to end: Chromium, the real worker in workerd, a fake authorization server.
const CHROMIUM = "/usr/bin/chromium";

let edge: StartedEdge;
let fake: FakeOAuth;
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
  return text ? (JSON.parse(text) as Record<string, unknown>) : null;
}

async function identify(id: string) {
  const res = await fetch(`${edge.url}/v1/tenants/${tenant.id}/nodes/sales/identify`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.agent}`, "content-type": "application/x-www-form-urlencoded" },
    body: `idContact=${id}`,
  });
  return { status: res.status, body: await res.text() };
}

/** From the connector page to the fake CRM's consent page. */
async function connect(clientSecret = fake.client.secret) {
  await page.goto(`${edge.url}/ui/connectors/hs`);
  // The connector's own form has an OAuth block with a "Client secret" too: fill the Connect card's.
  const card = page.locator('section[aria-labelledby="oauth-title"]');
  await card.getByLabel("Client id of your OAuth app").fill(fake.client.id);
  await card.getByLabel("Client secret").fill(clientSecret);
  await card.getByRole("button", { name: "Connect with HubSpot" }).click();
  await page.waitForURL(new RegExp(`^${fake.url}/oauth/authorize\\?`));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  [edge, fake] = await Promise.all([startEdge(), startFakeOAuth()]);
  await api("PUT", `/v1/tenants/${tenant.id}`, edge.operatorToken, { name: tenant.id });
  tenant.admin = (await api("POST", `/v1/tenants/${tenant.id}/keys`, edge.operatorToken, { role: "admin" }))!.key as string;
  tenant.agent = (await api("POST", `/v1/tenants/${tenant.id}/keys`, edge.operatorToken, { role: "agent" }))!.key as string;
  // Saved first with a private-app token that the fake CRM does not accept: only the consent makes lookups work.
  await api("PUT", `/v1/tenants/${tenant.id}/connectors/hs`, tenant.admin, {
    kind: "hubspot",
    baseUrl: fake.url,
    accessToken: "private-app-token-not-accepted",
    idProperty: "customer_id",
    rules: [{ when: { path: "properties.plan", op: "eq", value: "gold" }, destination: "1,3" }],
    default: "1,9",
  });
  await api("PUT", `/v1/tenants/${tenant.id}/nodes/sales`, tenant.admin, {
    name: "sales",
    interaction: "crm_destination",
    connector: "hs",
    successDestination: { type: 1, id: 1 },
    failureDestination: { type: 1, id: 2 },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"] });
  context = await browser.newContext({ locale: "en-US" });
  page = await context.newPage();
  await page.goto(`${edge.url}/ui/login`);
  await page.getByLabel("Admin key").fill(tenant.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/ui\/nodes$/);
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await Promise.all([edge?.close(), fake?.close()]);
}, 60_000);

describe("Connect with HubSpot in a real browser", () => {
  let approvedCallback = "";

  it("a lookup with the private-app token the CRM refuses fails before connecting", async () => {
    expect((await identify("4242")).body).not.toContain("1,3");
  });

  it("deny at the CRM: back on the connector page with a clear message, nothing stored", async () => {
    await connect();
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL(/\/ui\/connectors\/hs\?oauth=denied$/);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Access was refused at the CRM");
    const stored = (await api("GET", `/v1/tenants/${tenant.id}/connectors/hs`, tenant.admin))!;
    expect(stored.oauth).toBeUndefined();
    expect(fake.seen.exchanges).toEqual([]);
  });

  it("approve: back on the connector page, tokens sealed, identify works with the CRM's token", async () => {
    await connect();
    const authorize = fake.seen.authorize.at(-1)!;
    expect(authorize.get("redirect_uri")).toBe(`${edge.url}/ui/oauth/callback`);
    expect(authorize.get("scope")).toBe("crm.objects.contacts.read");
    const callback = page.waitForRequest((r) => r.url().includes("/ui/oauth/callback"));
    await page.getByRole("button", { name: "Approve" }).click();
    approvedCallback = (await callback).url();
    await page.waitForURL(/\/ui\/connectors\/hs\?oauth=connected$/);
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Connected with HubSpot");
    expect(fake.seen.exchanges.at(-1)).toEqual({ grant: "authorization_code", ok: true });

    const stored = (await api("GET", `/v1/tenants/${tenant.id}/connectors/hs`, tenant.admin))!;
    expect(stored.accessToken).toBeUndefined();
    expect(stored.oauth).toEqual({ tokenUrl: `${fake.url}/oauth/v1/token`, clientId: fake.client.id, clientSecret: "***", refreshToken: "***" });
    expect(await page.content()).not.toContain(fake.client.secret);

    const reply = await identify("4242");
    expect(reply.status).toBe(200);
    expect(reply.body).toContain("1,3");
    expect(fake.seen.exchanges.at(-1)).toEqual({ grant: "refresh_token", ok: true });
  });

  it("a replayed callback is refused and changes nothing", async () => {
    const before = fake.seen.exchanges.length;
    await page.goto(approvedCallback);
    await page.waitForURL(/\/ui\/(oauth\/finish|connectors\/hs)/);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("expired or was already used");
    expect(fake.seen.exchanges.length).toBe(before);
  });

  it("a made-up state is refused", async () => {
    await page.goto(`${edge.url}/ui/oauth/callback?state=forged-state&code=abc`);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("expired or was already used");
  });

  it("a wrong client secret: the CRM refuses the code and the page says so", async () => {
    await connect("not-the-secret");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(/\/ui\/connectors\/hs\?oauth=refused$/);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("The CRM refused the authorization");
    // The earlier connection is untouched.
    expect((await identify("4242")).body).toContain("1,3");
  });
});
