import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCrm, type FakeCrm } from "../support/fake-crm.js";
import { startEdge, type StartedEdge } from "../support/start-edge.js";

// Debian's Chromium, driven by playwright-core: no browser download (none is possible here).
const CHROMIUM = "/usr/bin/chromium";
const SHOTS = resolve(import.meta.dirname, "../../test-output/screenshots");

let edge: StartedEdge;
let crm: FakeCrm;
let browser: Browser;
const contexts: BrowserContext[] = [];
const acme = { id: "acme", admin: "", agent: "" };
const other = { id: "other-co", admin: "" };

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${edge.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : ((await res.json()) as Record<string, unknown>);
}

async function newTenant(id: string) {
  await api("PUT", `/v1/tenants/${id}`, edge.operatorToken, { name: id });
  const admin = (await api("POST", `/v1/tenants/${id}/keys`, edge.operatorToken, { role: "admin" }))!.key as string;
  const agent = (await api("POST", `/v1/tenants/${id}/keys`, edge.operatorToken, { role: "agent" }))!.key as string;
  return { admin, agent };
}

async function newPage(locale = "en-US", width = 1200): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width, height: 900 } });
  contexts.push(context);
  return context.newPage();
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function signIn(page: Page, key: string, labels = { key: "Admin key", submit: "Sign in" }) {
  await page.goto(`${edge.url}/ui/login`);
  await page.getByLabel(labels.key).fill(key);
  await page.getByRole("button", { name: labels.submit }).click();
  await page.waitForURL(/\/ui\/nodes$/);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does it in CI)`);
  mkdirSync(SHOTS, { recursive: true });
  [edge, crm] = await Promise.all([startEdge(), startFakeCrm()]);
  Object.assign(acme, await newTenant(acme.id));
  other.admin = (await newTenant(other.id)).admin;
  // chromium.launch gives every run a new, empty profile (a temp user-data-dir it deletes on close).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await Promise.all([edge?.close(), crm?.close()]);
}, 60_000);

describe("admin pages in a real browser", () => {
  let page: Page;

  it("signs in with the tenant admin key", async () => {
    page = await newPage();
    await page.goto(`${edge.url}/ui/nodes`);
    await page.waitForURL(/\/ui\/login\?next=/);
    await shot(page, "01-login");
    await page.getByLabel("Admin key").fill("cbk_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not a valid admin key");
    await signIn(page, acme.admin);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Customer-id nodes");
    const cookie = (await page.context().cookies()).find((c) => c.name === "cb_session")!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/ui" });
    expect(cookie.value).not.toContain(acme.admin.split("_").at(-1)!);
  }, 60_000);

  it("creates a connector through the form and tries an id", async () => {
    await page.goto(`${edge.url}/ui/connectors/new`);
    await page.getByLabel("Id", { exact: true }).fill("crm");
    // Choosing a kind loads its form (the "Change kind" button does it without JavaScript).
    await page.getByLabel("Kind", { exact: true }).selectOption("hubspot");
    await page.waitForURL(/kind=hubspot/);
    await expect.poll(() => page.getByLabel("Id property", { exact: true }).count()).toBe(1);
    await page.getByLabel("Kind", { exact: true }).selectOption("rest");
    await page.waitForURL(/kind=rest/);
    // No JSON typed: the fields, then a rule from the builder.
    await page.getByLabel("Id", { exact: true }).fill("crm");
    await page.getByRole("button", { name: "Add rule" }).click();
    await page.getByLabel("Rule 1: field path", { exact: true }).fill("plan");
    await page.getByLabel("Rule 1: value", { exact: true }).fill("gold");
    await page.getByLabel("Rule 1: destination", { exact: true }).selectOption("route");
    await page.getByLabel("Rule 1: destination type", { exact: true }).selectOption("1");
    await page.getByLabel("Rule 1: destination id", { exact: true }).fill("3");
    await page.getByLabel("URL", { exact: true }).fill(`${crm.url}/u/browser/rest/found/{idContact}`);
    await page.getByLabel("Record path", { exact: true }).fill("data.customer");
    await page.getByLabel("Authentication: Type", { exact: true }).selectOption("bearer");
    await page.getByLabel("Token", { exact: true }).fill("crm-secret-token");
    await shot(page, "01b-connector-form");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/ui\/connectors\?saved=crm$/);
    await page.getByRole("link", { name: "crm", exact: true }).click();
    await page.waitForURL(/\/ui\/connectors\/crm$/);
    expect(await page.content()).not.toContain("crm-secret-token");
    expect(await page.getByLabel("Token", { exact: true }).inputValue()).toBe("");
    await expect.poll(() => page.getByText("stored — leave empty to keep").count()).toBeGreaterThan(0);
    await page.getByLabel("Customer id").fill("12342");
    await page.getByRole("button", { name: "Try" }).click();
    const result = page.locator("#try-result");
    await result.waitFor();
    const text = (await result.textContent()) ?? "";
    expect(text).toContain("1,3");
    expect(text).toContain("#1");
    expect(text).toContain("plan");
    expect(text).toContain('"gold"');
    expect(text).toMatch(/\d+ ms/);
    await shot(page, "02-connector-try");
  }, 60_000);

  it("shows a validation error next to the field and saves nothing", async () => {
    await page.goto(`${edge.url}/ui/nodes/new`);
    await page.getByLabel("Name").fill("VIP customers");
    await page.getByLabel("Interaction type").selectOption("crm_destination");
    await page.getByLabel("Connector").selectOption("crm");
    await page.getByLabel("Attempts").fill("99");
    await page.getByLabel("Success destination id").fill("10");
    await page.getByLabel("Failure destination type").selectOption("5");
    await page.getByLabel("Failure destination id").fill("1");
    await page.getByRole("button", { name: "Save" }).click();
    const attempts = page.getByLabel("Attempts");
    await expect.poll(() => attempts.getAttribute("aria-invalid")).toBe("true");
    const errId = (await attempts.getAttribute("aria-describedby"))!.split(" ")[0]!;
    expect(await page.locator(`#${errId}`).textContent()).toMatch(/20/);
    expect(await page.locator(`#${errId}`).isVisible()).toBe(true);
    await shot(page, "03-node-validation-error");
    expect((await api("GET", `/v1/tenants/${acme.id}/nodes`, acme.admin))!.nodes).toEqual([]);
    // The form kept what was typed; fix the one field and save.
    expect(await page.getByLabel("Name").inputValue()).toBe("VIP customers");
    await attempts.fill("3");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/ui\/nodes\?saved=vip-customers$/);
    expect(await page.getByRole("row", { name: /vip-customers/ }).textContent()).toContain("VIP customers");
    await shot(page, "04-node-saved");
    expect(await api("GET", `/v1/tenants/${acme.id}/nodes/vip-customers`, acme.admin)).toMatchObject({
      name: "VIP customers",
      interaction: "crm_destination",
      connector: "crm",
      attempts: 3,
      successDestination: { type: 1, id: 10 },
      failureDestination: { type: 5, id: 1 },
    });
  }, 60_000);

  it("shows an identify call on the decisions page, id masked", async () => {
    const res = await fetch(`${edge.url}/v1/tenants/${acme.id}/nodes/vip-customers/identify`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.agent}`, "content-type": "application/x-www-form-urlencoded", "user-agent": "OMniLeads" },
      body: "idContact=5550142",
    });
    expect(await res.json()).toEqual({ status: "ok", destination: "1,3" });
    let row = "";
    for (let i = 0; i < 30 && !row.includes("••••42 (7)"); i++) {
      await page.goto(`${edge.url}/ui/decisions`);
      // Decisions are written just after the answer (batched), so the first look may be early.
      row = (await page.locator("main").textContent()) ?? "";
      if (!row.includes("••••42 (7)")) await page.waitForTimeout(200);
    }
    expect(row).toContain("vip-customers");
    expect(row).toContain("••••42 (7)");
    expect(await page.content()).not.toContain("5550142");
    await page.getByLabel("Outcome").selectOption("failure");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/outcome=failure/);
    expect(await page.getByText("No decisions match.").count()).toBe(1);
    await page.goto(`${edge.url}/ui/decisions`);
    await shot(page, "05-decisions");
  }, 60_000);

  it("is usable with the keyboard alone: Tab reaches every control of the node form, Enter submits", async () => {
    await page.goto(`${edge.url}/ui/nodes/new`);
    const fields = page.locator("#node-form").locator("input:not([type=hidden]), select, textarea, button");
    const controls: string[] = [];
    for (const el of await fields.all()) controls.push((await el.getAttribute("id")) || (await el.textContent()) || "");
    const reached: string[] = [];
    for (let i = 0; i < 60 && reached.length < 40; i++) {
      await page.keyboard.press("Tab");
      const inForm = page.locator("#node-form :focus");
      const focused = (await inForm.count()) ? (await inForm.getAttribute("id")) || (await inForm.textContent()) || "" : null;
      if (focused !== null && !reached.includes(focused)) reached.push(focused);
      if (focused === "Save") break;
    }
    for (const c of controls) expect(reached).toContain(c);
    // Every control has its own visible label.
    for (const id of controls.filter((c) => c.startsWith("f-"))) {
      expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
    }

    // Fill the form by keyboard only: focus moves with Tab, typing fills, Enter submits.
    await page.goto(`${edge.url}/ui/nodes/new`);
    const tabTo = async (id: string) => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press("Tab");
        if ((await page.locator(":focus").getAttribute("id", { timeout: 1000 }).catch(() => null)) === id) return;
      }
      throw new Error(`Tab never reached ${id}`);
    };
    await tabTo("f-name");
    await page.keyboard.type("Keyboard node");
    await tabTo("f-confirm");
    await page.keyboard.press("Space");
    await tabTo("f-successDestination-id");
    await page.keyboard.type("7");
    await tabTo("f-failureDestination-id");
    await page.keyboard.type("8");
    await shot(page, "06-keyboard-form");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/ui\/nodes\?saved=keyboard-node$/);
    expect(await api("GET", `/v1/tenants/${acme.id}/nodes/keyboard-node`, acme.admin)).toMatchObject({
      confirm: true,
      successDestination: { type: 1, id: 7 },
      failureDestination: { type: 5, id: 8 },
    });
  }, 60_000);

  it("refuses to delete the connector while nodes use it, naming them", async () => {
    await page.goto(`${edge.url}/ui/connectors/crm`);
    await page.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("vip-customers");
    await shot(page, "07-connector-in-use");
  }, 60_000);

  it("shows another tenant's admin none of it", async () => {
    const stranger = await newPage();
    await signIn(stranger, other.admin);
    expect(await stranger.locator("main").textContent()).toContain("No nodes yet.");
    await stranger.goto(`${edge.url}/ui/connectors`);
    expect(await stranger.locator("main").textContent()).not.toContain("crm");
    for (const path of ["/ui/nodes/vip-customers", "/ui/connectors/crm"]) {
      const res = await stranger.goto(`${edge.url}${path}`);
      expect(res?.status()).toBe(404);
      expect(await stranger.content()).not.toContain("VIP customers");
    }
    await stranger.goto(`${edge.url}/ui/decisions`);
    expect(await stranger.locator("main").textContent()).not.toContain("••••42");
    await stranger.goto(`${edge.url}/ui/keys`);
    await shot(stranger, "08-other-tenant");
  }, 60_000);

  it("speaks Spanish to a Spanish browser, and the switch goes back to English", async () => {
    const es = await newPage("es-AR");
    await es.goto(`${edge.url}/ui/login`);
    await signIn(es, acme.admin, { key: "Clave de administrador", submit: "Entrar" });
    await es.goto(`${edge.url}/ui/nodes/new`);
    for (const label of ["Nombre", "Tipo de interacción", "Intentos", "Longitud de id esperado"]) expect(await es.getByLabel(label).count()).toBe(1);
    await shot(es, "09-spanish-node-form");
    await es.getByRole("link", { name: "English" }).click();
    await es.waitForURL(/\/ui\/nodes\/new$/);
    expect(await es.getByLabel("Interaction type").count()).toBe(1);
  }, 60_000);

  it("creates a key shown once and logs out", async () => {
    await page.goto(`${edge.url}/ui/keys`);
    await page.getByLabel("Role").selectOption("agent");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.locator("#new-key").textContent())!;
    expect(key).toMatch(/^cbk_/);
    await shot(page, "10-keys");
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/ui\/login$/);
    await page.goto(`${edge.url}/ui/keys`);
    await page.waitForURL(/\/ui\/login/);
  }, 60_000);

  it("holds its shape: every page in both languages at 1280 and 390 px, screenshotted, with no horizontal overflow", async () => {
    // A caller who typed 200 digits: the decisions table must still fit.
    await fetch(`${edge.url}/v1/tenants/${acme.id}/nodes/vip-customers/identify`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.agent}`, "content-type": "application/x-www-form-urlencoded" },
      body: `idContact=${"9".repeat(200)}`,
    });
    // The longest values each field takes, unbroken: a 63-character connector and node id, a
    // 50-character name, a 200-character URL, a long rule path and value, a 30-digit id.
    const longId = `c${"0123456789".repeat(7)}`.slice(0, 63);
    const longNode = `n${"9876543210".repeat(7)}`.slice(0, 63);
    const longUrl = `${crm.url}/u/browser/rest/found/{idContact}?${"q".repeat(200)}`.slice(0, 200);
    const longPath = `data.${"segment".repeat(12)}`;
    const longValue = "V".repeat(300);
    await api("PUT", `/v1/tenants/${acme.id}/connectors/${longId}`, acme.admin, {
      kind: "rest",
      url: longUrl,
      recordPath: "data.customer",
      rules: [
        { when: { path: longPath, op: "eq", value: longValue }, destination: "1,3" },
        { when: { path: "plan", op: "in", value: [longValue, longValue] }, destination: "1,4" },
      ],
      default: "true",
      notFound: "false",
    });
    await api("PUT", `/v1/tenants/${acme.id}/nodes/${longNode}`, acme.admin, {
      name: "N".repeat(50),
      interaction: "crm_destination",
      connector: longId,
      successDestination: { type: 1, id: 10 },
      failureDestination: { type: 5, id: 1 },
    });
    await fetch(`${edge.url}/v1/tenants/${acme.id}/nodes/${longNode}/identify`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.agent}`, "content-type": "application/x-www-form-urlencoded" },
      body: `idContact=${"1".repeat(30)}`,
    });
    const pages: Array<[string, string]> = [
      ["long-connector", `/ui/connectors/${longId}`],
      ["long-connector-json", `/ui/connectors/${longId}?view=json`],
      ["long-node", `/ui/nodes/${longNode}`],
      ["long-decisions", `/ui/decisions?node=${longNode}`],
      ["nodes", "/ui/nodes"],
      ["node-new", "/ui/nodes/new"],
      ["node-edit", "/ui/nodes/vip-customers"],
      ["connectors", "/ui/connectors"],
      ["connector-new", "/ui/connectors/new"],
      ["connector-edit", "/ui/connectors/crm"],
      ["decisions", "/ui/decisions"],
      ["keys", "/ui/keys"],
      ["not-found", "/ui/nodes/no-such-node"],
    ];
    const overflow: string[] = [];
    const check = async (p: Page, name: string) => {
      // Runs in the page; this file is typed for Node, so the DOM is reached through globalThis.
      const [scroll, client] = await p.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
        return [root.scrollWidth, root.clientWidth];
      });
      if (scroll > client) overflow.push(`${name}: ${scroll} > ${client}`);
      await shot(p, name);
    };
    for (const [lang, locale, labels] of [
      ["en", "en-US", { key: "Admin key", submit: "Sign in", save: "Save" }],
      ["es", "es-ES", { key: "Clave de administrador", submit: "Entrar", save: "Guardar" }],
    ] as const) {
      for (const width of [1280, 390]) {
        const p = await newPage(locale, width);
        const tag = `${lang}-${width}`;
        await p.goto(`${edge.url}/ui/login`);
        await check(p, `${tag}-login`);
        await p.getByLabel(labels.key).fill("cbk_wrong");
        await p.getByRole("button", { name: labels.submit }).click();
        await p.getByRole("alert").waitFor();
        await check(p, `${tag}-login-error`);
        await signIn(p, acme.admin, { key: labels.key, submit: labels.submit });
        for (const [name, path] of pages) {
          await p.goto(`${edge.url}${path}`);
          await check(p, `${tag}-${name}`);
        }
        // The forms with their errors shown.
        await p.goto(`${edge.url}/ui/nodes/new`);
        await p.locator("#f-attempts").fill("99");
        await p.getByRole("button", { name: labels.save }).click();
        await p.locator("#form-errors").waitFor();
        await check(p, `${tag}-node-errors`);
        await p.goto(`${edge.url}/ui/connectors/new`);
        await p.locator("#f-id").fill("Bad Id");
        await p.getByRole("button", { name: labels.save }).click();
        await p.locator("#form-errors").waitFor();
        await check(p, `${tag}-connector-errors`);
        // "Try" with a 30-digit id on the long connector: the result (rule, fields) wraps too.
        await p.goto(`${edge.url}/ui/connectors/${longId}`);
        await p.locator("#f-idContact").fill("1".repeat(30));
        await p.locator("#f-idContact").press("Enter");
        await p.locator("#try-result").waitFor();
        await check(p, `${tag}-long-try`);
        await p.locator("#f-idContact").fill("1".repeat(31));
        await p.locator("#f-idContact").press("Enter");
        await p.locator("#try-result").waitFor();
        await check(p, `${tag}-long-try-refused`);
        // The 200-digit id is one fixed-width cell.
        await p.goto(`${edge.url}/ui/decisions`);
        expect(await p.locator("main").textContent()).toContain("••••99 (64)");
      }
    }
    // A tenant id as long as ids go, in the header of every page, on a phone.
    const longTenant = `t${"0123456789".repeat(7)}`.slice(0, 63);
    const longAdmin = (await newTenant(longTenant)).admin;
    for (const [lang, locale, labels] of [
      ["en", "en-US", { key: "Admin key", submit: "Sign in" }],
      ["es", "es-ES", { key: "Clave de administrador", submit: "Entrar" }],
    ] as const) {
      const p = await newPage(locale, 390);
      await signIn(p, longAdmin, labels);
      for (const [name, path] of [["nodes", "/ui/nodes"], ["keys", "/ui/keys"], ["connector-new", "/ui/connectors/new"]]) {
        await p.goto(`${edge.url}${path}`);
        await check(p, `${lang}-390-long-tenant-${name}`);
      }
    }
    expect(overflow).toEqual([]);
  }, 240_000);
});
