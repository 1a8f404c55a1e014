import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json, newTenant, putConnector, putNode, crmPath } from "./helpers.js";

/** A browser in miniature: keeps cookies, never follows redirects, echoes the page's CSRF token. */
class Browser {
  cookies = new Map<string, string>();
  csrf = "";
  constructor(private headers: Record<string, string> = {}) {}

  async fetch(method: string, path: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    let body: string | undefined;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    const res = await (exports as unknown as { default: Fetcher }).default.fetch(`http://edge.test${path}`, { method, headers, body, redirect: "manual" });
    for (const sc of res.headers.getAll("set-cookie")) {
      const [pair] = sc.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === "" || /max-age=0/i.test(sc)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  async page(path: string): Promise<{ res: Response; html: string }> {
    const res = await this.fetch("GET", path);
    const html = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (m) this.csrf = m[1]!;
    return { res, html };
  }
  post(path: string, form: Record<string, string>, withCsrf = true) {
    return this.fetch("POST", path, withCsrf ? { _csrf: this.csrf, ...form } : form);
  }
  async signIn(key: string) {
    await this.page("/ui/login");
    const res = await this.post("/ui/login", { key });
    expect(res.status).toBe(303);
    return res;
  }
}

/** The control a visible label names, as a test driving the page by label would find it. */
function control(html: string, label: string): string {
  const esc = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`<label for="([^"]+)">${esc}</label>`).exec(html);
  if (!m) throw new Error(`no label "${label}"`);
  const el = new RegExp(`<(input|select|textarea)[^>]*\\bid="${m[1]}"[^>]*>`).exec(html);
  if (!el) throw new Error(`label "${label}" names no control`);
  return el[0];
}

const NODE_LABELS = [
  "Name",
  "Interaction type",
  "Connector",
  "Audio",
  "Expected id length",
  "Timeout (seconds)",
  "Attempts",
  "Confirm the id",
  "Success destination type",
  "Success destination id",
  "Failure destination type",
  "Failure destination id",
  "Id",
];

const validNode = {
  name: "Ventas VIP",
  id: "",
  interaction: "none",
  connector: "",
  audio: "sound:beep",
  expectedLength: "",
  timeoutSeconds: "5",
  attempts: "3",
  "successDestination.type": "1",
  "successDestination.id": "10",
  "failureDestination.type": "5",
  "failureDestination.id": "1",
};

describe("admin pages: session", () => {
  it("sends an anonymous visitor to the login page, which has the SPEC labels", async () => {
    const b = new Browser();
    const res = await b.fetch("GET", "/ui/nodes");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui/login?next=%2Fui%2Fnodes");
    const { html } = await b.page("/ui/login");
    expect(control(html, "Admin key")).toContain('type="password"');
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
  });

  it("signs in with an admin key into a sealed, HttpOnly, Secure, SameSite=Strict cookie", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.page("/ui/login");
    const res = await b.post("/ui/login?next=%2Fui%2Fdecisions", { key: t.admin });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui/decisions");
    const cookie = res.headers.getAll("set-cookie").find((c) => c.startsWith("cb_session="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/ui/);
    const secret = t.admin.split("_").at(-1)!;
    expect(decodeURIComponent(cookie)).not.toContain(secret);
    const { res: page, html } = await b.page("/ui/nodes");
    expect(page.status).toBe(200);
    expect(html).toContain(t.id);
  });

  it("refuses wrong keys, agent keys, and a login form without its token", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.page("/ui/login");
    expect((await b.post("/ui/login", { key: "cbk_nope" })).status).toBe(401);
    expect((await b.post("/ui/login", { key: t.agent })).status).toBe(403);
    expect((await b.post("/ui/login", { key: t.admin }, false)).status).toBe(403);
    expect((await b.post("/ui/login", { key: t.admin, _csrf: "forged-token-forged-token-forged1" }, false)).status).toBe(403);
    expect(b.cookies.has("cb_session")).toBe(false);
  });

  it("ends the session at the next request once its key is revoked", async () => {
    const t = await newTenant("ui");
    const extra = await json<{ id: string; key: string }>(await call("POST", `/v1/tenants/${t.id}/keys`, { token: t.admin, body: { role: "admin" } }));
    const b = new Browser();
    await b.signIn(extra.key);
    expect((await b.fetch("GET", "/ui/nodes")).status).toBe(200);
    expect((await call("DELETE", `/v1/tenants/${t.id}/keys/${extra.id}`, { token: t.admin })).status).toBe(204);
    const res = await b.fetch("GET", "/ui/nodes");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/ui\/login/);
    expect(b.cookies.has("cb_session")).toBe(false);
  });

  it("treats a tampered cookie as no session, and logs out with a POST", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    const good = b.cookies.get("cb_session")!;
    b.cookies.set("cb_session", good.slice(0, -6) + "AAAAAA");
    expect((await b.fetch("GET", "/ui/nodes")).status).toBe(303);
    b.cookies.set("cb_session", good);
    await b.page("/ui/nodes");
    const out = await b.post("/ui/logout", {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/ui/login");
    expect(b.cookies.has("cb_session")).toBe(false);
  });
});

describe("admin pages: forms", () => {
  it("refuses a POST without the session's CSRF token and saves nothing", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/nodes/new");
    expect((await b.post("/ui/nodes/new", validNode, false)).status).toBe(403);
    expect((await b.post("/ui/nodes/new", { ...validNode, _csrf: "x".repeat(32) }, false)).status).toBe(403);
    // A token from another session is no good either.
    const other = new Browser();
    await other.signIn(t.admin);
    await other.page("/ui/nodes/new");
    expect((await b.post("/ui/nodes/new", { ...validNode, _csrf: other.csrf }, false)).status).toBe(403);
    const nodes = await json<{ nodes: unknown[] }>(await call("GET", `/v1/tenants/${t.id}/nodes`, { token: t.admin }));
    expect(nodes.nodes).toEqual([]);
  });

  it("the node form labels every control exactly as SPEC 8 says", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    const { html } = await b.page("/ui/nodes/new");
    for (const label of NODE_LABELS) expect(() => control(html, label)).not.toThrow();
    expect(control(html, "Interaction type")).toMatch(/^<select/);
    expect(control(html, "Confirm the id")).toContain('type="checkbox"');
    expect(html).toMatch(/<button type="submit">Save<\/button>/);
  });

  it("creates a node with the id derived from the name, then edits it", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/nodes/new");
    const res = await b.post("/ui/nodes/new", { ...validNode, confirm: "on", expectedLength: "8" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui/nodes/ventas-vip?saved=1");
    const saved = await json(await call("GET", `/v1/tenants/${t.id}/nodes/ventas-vip`, { token: t.admin }));
    expect(saved).toMatchObject({
      id: "ventas-vip",
      name: "Ventas VIP",
      interaction: "none",
      attempts: 3,
      confirm: true,
      expectedLength: 8,
      successDestination: { type: 1, id: 10 },
      failureDestination: { type: 5, id: 1 },
    });
    const { html } = await b.page("/ui/nodes/ventas-vip");
    expect(control(html, "Attempts")).toContain('value="3"');
    expect(control(html, "Confirm the id")).toContain("checked");
    const edit = await b.post("/ui/nodes/ventas-vip", { ...validNode, name: "Ventas VIP 2", attempts: "4" });
    expect(edit.status).toBe(303);
    expect(await json(await call("GET", `/v1/tenants/${t.id}/nodes/ventas-vip`, { token: t.admin }))).toMatchObject({ name: "Ventas VIP 2", attempts: 4, confirm: false });
    // Creating another node with the same derived id does not overwrite the first.
    await b.page("/ui/nodes/new");
    const dup = await b.post("/ui/nodes/new", { ...validNode, name: "ventas vip" });
    expect(dup.status).toBe(400);
    expect(await dup.text()).toContain("exists");
  });

  it("shows validation errors next to their fields, linked by aria-describedby, and saves nothing", async () => {
    const t = await newTenant("ui");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/nodes/new");
    const res = await b.post("/ui/nodes/new", { ...validNode, name: "Broken", attempts: "99", interaction: "crm_true_false", "successDestination.id": "" });
    expect(res.status).toBe(400);
    const html = await res.text();
    const attempts = control(html, "Attempts");
    expect(attempts).toContain('aria-invalid="true"');
    expect(attempts).toContain('aria-describedby="f-attempts-err"');
    expect(html).toMatch(/<p class="error" id="f-attempts-err">[^<]*20[^<]*<\/p>/);
    expect(control(html, "Success destination id")).toContain('aria-invalid="true"');
    // The form keeps what was typed.
    expect(control(html, "Name")).toContain('value="Broken"');
    // The schema's cross-field rule: the CRM interaction types need a connector.
    const noCrm = await b.post("/ui/nodes/new", { ...validNode, name: "Broken", interaction: "crm_true_false" });
    const noCrmHtml = await noCrm.text();
    expect(noCrm.status).toBe(400);
    expect(control(noCrmHtml, "Connector")).toContain('aria-describedby="f-connector-err"');
    expect(noCrmHtml).toMatch(/<p class="error" id="f-connector-err">required for the CRM interaction types<\/p>/);
    const nodes = await json<{ nodes: unknown[] }>(await call("GET", `/v1/tenants/${t.id}/nodes`, { token: t.admin }));
    expect(nodes.nodes).toEqual([]);
  });

  it("deletes a node with a POST", async () => {
    const t = await newTenant("ui");
    await putNode(t, "gone", { interaction: "none" });
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/nodes/gone");
    const res = await b.post("/ui/nodes/gone/delete", {});
    expect(res.status).toBe(303);
    expect((await call("GET", `/v1/tenants/${t.id}/nodes/gone`, { token: t.admin })).status).toBe(404);
  });
});

describe("admin pages: tenant isolation", () => {
  it("a session of tenant B sees nothing of tenant A and cannot change it", async () => {
    const a = await newTenant("ui");
    const bTenant = await newTenant("ui");
    await putConnector(a, "secret-crm", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(a, "a-node", { interaction: "crm_true_false", connector: "secret-crm" });
    const b = new Browser();
    await b.signIn(bTenant.admin);
    const list = await b.page("/ui/nodes");
    expect(list.html).not.toContain("a-node");
    expect((await b.page("/ui/nodes/a-node")).res.status).toBe(404);
    expect((await b.page("/ui/connectors/secret-crm")).res.status).toBe(404);
    expect((await b.page("/ui/connectors")).html).not.toContain("secret-crm");
    await b.page("/ui/nodes");
    expect((await b.post("/ui/nodes/a-node/delete", {})).status).toBe(404);
    expect((await b.post("/ui/nodes/a-node", validNode)).status).toBe(404);
    expect((await call("GET", `/v1/tenants/${a.id}/nodes/a-node`, { token: a.admin })).status).toBe(200);
    // A node form of B cannot name A's connector.
    await b.page("/ui/nodes/new");
    const res = await b.post("/ui/nodes/new", { ...validNode, name: "b node", interaction: "crm_true_false", connector: "secret-crm" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('id="f-connector-err"');
  });
});

describe("admin pages: languages", () => {
  it("speaks Spanish when Accept-Language prefers it, with OMniLeads' labels", async () => {
    const t = await newTenant("ui");
    const b = new Browser({ "accept-language": "es-AR,es;q=0.9,en;q=0.5" });
    const login = await b.page("/ui/login");
    expect(login.html).toContain('<html lang="es">');
    await b.signIn(t.admin);
    const { html } = await b.page("/ui/nodes/new");
    for (const label of ["Nombre", "Tipo de interacción", "Intentos", "Longitud de id esperado", "Guardar"]) expect(html).toContain(label);
    expect(html).toContain("Sin interacción externa");
  });

  it("prefers English when its weight is higher, and the switch overrides the header", async () => {
    const b = new Browser({ "accept-language": "en-US,es;q=0.8" });
    expect((await b.page("/ui/login")).html).toContain("Admin key");
    const sw = await b.fetch("GET", "/ui/lang/es?back=%2Fui%2Flogin");
    expect(sw.status).toBe(303);
    expect(sw.headers.get("location")).toBe("/ui/login");
    expect((await b.page("/ui/login")).html).toContain("Clave de administrador");
    // The switch never redirects off the pages.
    expect((await b.fetch("GET", "/ui/lang/en?back=https%3A%2F%2Fevil.test%2F")).headers.get("location")).toBe("/ui/nodes");
  });
});
