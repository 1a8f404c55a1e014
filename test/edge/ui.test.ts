import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { crmFixtures } from "../support/fake-crms/fixtures.js";
import { formText } from "../../worker/ui/connector-form-text.js";
import { dict } from "../../worker/ui/i18n.js";
import { call, callFrom, crmCalls, crmPath, identify, json, newTenant, OPERATOR, putConnector, putNode } from "./helpers.js";
import { formValues } from "./form-values.js";

/** A browser in miniature: keeps cookies, never follows redirects, echoes the page's CSRF token. */
class Browser {
  cookies = new Map<string, string>();
  csrf = "";
  /** With `ip`, the browser reaches the worker as deployed behind Cloudflare from that address (its own failed-auth budget). */
  constructor(
    private headers: Record<string, string> = {},
    private ip?: string,
  ) {}

  async fetch(method: string, path: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    let body: string | undefined;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    const res = this.ip
      ? await callFrom(this.ip, method, path, { headers, ...(body !== undefined ? { raw: body } : {}) })
      : await (exports as unknown as { default: Fetcher }).default.fetch(`http://edge.test${path}`, { method, headers, body, redirect: "manual" });
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

/** A HubSpot connector on its fake, whose phone book finds +34 911 23 45 67 as customer 700001 (plan gold: 1,3). */
async function hubspotConnector(t: { id: string; admin: string }, id: string) {
  const base = `${inject("crmsUrl")}/u/${crypto.randomUUID()}/hubspot/found`;
  const rules = [{ when: { path: "properties.plan", op: "eq", value: "gold" }, destination: "1,3" }];
  await putConnector(t, id, { ...crmFixtures.hubspot!.config(base), rules, default: "true", notFound: "false" });
}

/** A documentation-range IPv6 /64 no other test uses, so its failed-auth budget is its own. */
const freshIp = () => `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::1`;
const wrongSecret = (key: string) => key.slice(0, -4) + (key.endsWith("AAAA") ? "BBBB" : "AAAA");
const banner = (html: string) => /<div class="banner err" role="alert">([^<]*)<\/div>/.exec(html)?.[1];

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
  "Identify by",
  "Default country",
  "Confirm the caller",
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
    const { res: login, html } = await b.page("/ui/login");
    expect(control(html, "Admin key")).toContain('type="password"');
    expect(login.headers.get("cache-control")).toBe("no-store");
    expect(login.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(login.headers.get("x-frame-options")).toBe("DENY");
    expect(login.headers.get("x-request-id")).toBeTruthy();
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
    // The secret is everything after "cbk_<id>_" (base64url may itself hold "_").
    const secret = t.admin.replace(/^cbk_[^_]+_/, "");
    expect(decodeURIComponent(cookie)).not.toContain(secret);
    const { res: page, html } = await b.page("/ui/nodes");
    expect(page.status).toBe(200);
    expect(html).toContain(t.id);
  });

  it("refuses wrong keys, agent keys, and a login form without its token", async () => {
    const t = await newTenant("ui");
    const b = new Browser({}, freshIp());
    await b.page("/ui/login");
    expect((await b.post("/ui/login", { key: "cbk_nope" })).status).toBe(401);
    expect((await b.post("/ui/login", { key: t.agent })).status).toBe(401);
    expect((await b.post("/ui/login", { key: t.admin }, false)).status).toBe(403);
    expect((await b.post("/ui/login", { key: t.admin, _csrf: "forged-token-forged-token-forged1" }, false)).status).toBe(403);
    expect(b.cookies.has("cb_session")).toBe(false);
  });

  it("gives one answer, in English and Spanish, to every key that cannot sign in: an agent key is no oracle", async () => {
    const t = await newTenant("ui");
    const revoked = await json<{ id: string; key: string }>(await call("POST", `/v1/tenants/${t.id}/keys`, { token: t.admin, body: { role: "admin" } }));
    await call("DELETE", `/v1/tenants/${t.id}/keys/${revoked.id}`, { token: t.admin });
    const unknown = `cbk_${"a".repeat(12)}_${"A".repeat(43)}`;
    for (const [lang, message] of [
      ["en", "That key is not a valid admin key."],
      ["es", "Esa clave no es una clave de administrador válida."],
    ] as const) {
      const b = new Browser({ "accept-language": lang }, freshIp());
      await b.page("/ui/login");
      for (const key of [t.agent, "garbage", unknown, wrongSecret(t.admin), revoked.key, ""]) {
        const res = await b.post("/ui/login", { key });
        expect(res.status, `${lang} ${key.slice(0, 20)}`).toBe(401);
        expect(banner(await res.text())).toBe(message);
      }
      expect(b.cookies.has("cb_session")).toBe(false);
    }
  });

  it("throttles failed sign-ins per client and key, yet never refuses the right key", async () => {
    const t = await newTenant("ui");
    const b = new Browser({ "accept-language": "es" }, freshIp());
    await b.page("/ui/login");
    const statuses: number[] = [];
    let last = "";
    for (let i = 0; i < 100 && statuses.at(-1) !== 429; i++) {
      const res = await b.post("/ui/login", { key: wrongSecret(t.admin) });
      statuses.push(res.status);
      last = await res.text();
    }
    // At least the limit's 30 (more only when the run straddles one of the limiter's minute windows).
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(30);
    expect(statuses.at(-1)).toBe(429);
    expect(banner(last)).toBe("Demasiados intentos fallidos desde aquí; espere un minuto y vuelva a intentarlo.");
    await b.signIn(t.admin);
    expect((await b.fetch("GET", "/ui/nodes")).status).toBe(200);
  });

  it("the node form saves identification by caller number (identifyBy, confirmCaller, defaultCountry)", async () => {
    const t = await newTenant("ui");
    await putConnector(t, "crm", { kind: "webhook", url: "https://crm.example.com/ident", sendCallerNumber: true });
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/nodes/new");
    const res = await b.post("/ui/nodes/new", { ...validNode, connector: "crm", identifyBy: "caller_number_then_dtmf", confirmCaller: "on", defaultCountry: "es" });
    expect(res.status).toBe(303);
    const saved = await json(await call("GET", `/v1/tenants/${t.id}/nodes/ventas-vip`, { token: t.admin }));
    expect(saved).toMatchObject({ identifyBy: "caller_number_then_dtmf", confirmCaller: true, defaultCountry: "ES" });
    const { html } = await b.page("/ui/nodes/ventas-vip");
    expect(control(html, "Confirm the caller")).toContain("checked");
    expect(html).toMatch(/<option value="caller_number_then_dtmf" selected/);
  });

  it("logging out ends the session on the server: a kept cookie and CSRF token are refused", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    const other = new Browser();
    await other.signIn(t.admin);
    await b.page("/ui/nodes/new");
    const stolen = { cookie: b.cookies.get("cb_session")!, csrf: b.csrf };
    expect((await b.post("/ui/logout", {})).status).toBe(303);

    const replay = new Browser();
    replay.cookies.set("cb_session", stolen.cookie);
    const page = await replay.fetch("GET", "/ui/nodes");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toMatch(/^\/ui\/login/);
    replay.cookies.set("cb_session", stolen.cookie);
    replay.csrf = stolen.csrf;
    const post = await replay.post("/ui/nodes/new", validNode);
    expect(post.status).toBe(303);
    expect(post.headers.get("location")).toMatch(/^\/ui\/login/);
    expect((await call("GET", `/v1/tenants/${t.id}/nodes/ventas-vip`, { token: t.admin })).status).toBe(404);
    // Only that session ended: the same key's other session goes on.
    expect((await other.fetch("GET", "/ui/nodes")).status).toBe(200);
  });

  it("revoking the key ends its sessions: a kept cookie and CSRF token are refused", async () => {
    const t = await newTenant("ui");
    const extra = await json<{ id: string; key: string }>(await call("POST", `/v1/tenants/${t.id}/keys`, { token: t.admin, body: { role: "admin" } }));
    const b = new Browser();
    await b.signIn(extra.key);
    await b.page("/ui/keys");
    const stolen = { cookie: b.cookies.get("cb_session")!, csrf: b.csrf };
    expect((await call("DELETE", `/v1/tenants/${t.id}/keys/${extra.id}`, { token: t.admin })).status).toBe(204);
    const before = (await json<{ keys: unknown[] }>(await call("GET", `/v1/tenants/${t.id}/keys`, { token: t.admin }))).keys.length;

    const replay = new Browser();
    replay.cookies.set("cb_session", stolen.cookie);
    replay.csrf = stolen.csrf;
    const post = await replay.post("/ui/keys", { role: "admin" });
    expect(post.status).toBe(303);
    expect(post.headers.get("location")).toMatch(/^\/ui\/login/);
    expect((await json<{ keys: unknown[] }>(await call("GET", `/v1/tenants/${t.id}/keys`, { token: t.admin }))).keys.length).toBe(before);
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

  it("a session that ended says so on the login page, in the page's language, and a form sent after it saved nothing", async () => {
    for (const [lang, sentence] of [
      ["en", "Your session has ended"],
      ["es", "Su sesión terminó"],
    ] as const) {
      const t = await newTenant("ui");
      const b = new Browser({ "accept-language": lang });
      await b.signIn(t.admin);
      await b.page("/ui/nodes/new");
      // Signed out in another tab: this tab's cookie and form are stale.
      const other = new Browser();
      other.cookies = new Map(b.cookies);
      other.csrf = b.csrf;
      await other.post("/ui/logout", {});
      const kept = b.cookies.get("cb_session")!;
      const post = await b.post("/ui/nodes/new", { ...validNode });
      expect(post.status).toBe(303);
      expect(post.headers.get("location")).toBe("/ui/login?ended=1");
      const { html } = await b.page(post.headers.get("location")!);
      expect(banner(html), lang).toContain(sentence);
      expect((await json<{ nodes: unknown[] }>(await call("GET", `/v1/tenants/${t.id}/nodes`, { token: t.admin }))).nodes).toEqual([]);
      // A page asked for with the dead cookie comes back to it after signing in, still saying why.
      b.cookies.set("cb_session", kept);
      const get = await b.fetch("GET", "/ui/connectors");
      expect(get.headers.get("location")).toBe("/ui/login?next=%2Fui%2Fconnectors&ended=1");
      // Someone who was never signed in is not told a session ended.
      expect(banner((await new Browser({ "accept-language": lang }).page("/ui/login?next=%2Fui%2Fnodes")).html)).toBeUndefined();
    }
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
    expect(res.headers.get("location")).toBe("/ui/nodes?saved=ventas-vip");
    expect((await b.page("/ui/nodes?saved=ventas-vip")).html).toMatch(/<a href="\/ui\/nodes\/ventas-vip">ventas-vip<\/a>/);
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
    expect(await dup.text()).toContain('id="f-id-err">The id made from the name, ventas-vip, is taken by another node: change it here.</p>');
    // "new" is the create page's address, so no node may take it.
    const reserved = await b.post("/ui/nodes/new", { ...validNode, name: "New" });
    expect(reserved.status).toBe(400);
    expect(await reserved.text()).toMatch(/id="f-id-err">&quot;new&quot; is reserved/);
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
    // The summary at the top links to each field in error.
    expect(html).toMatch(/<div class="banner err" role="alert" id="form-errors">.*<a href="#f-attempts">Attempts: /s);
    // The form keeps what was typed.
    expect(control(html, "Name")).toContain('value="Broken"');
    // The schema's cross-field rule: the CRM interaction types need a connector.
    const noCrm = await b.post("/ui/nodes/new", { ...validNode, name: "Broken", interaction: "crm_true_false" });
    const noCrmHtml = await noCrm.text();
    expect(noCrm.status).toBe(400);
    expect(control(noCrmHtml, "Connector")).toContain('aria-describedby="f-connector-err"');
    expect(noCrmHtml).toMatch(/<p class="error" id="f-connector-err">Choose a connector: the CRM interaction types need one.<\/p>/);
    const nodes = await json<{ nodes: unknown[] }>(await call("GET", `/v1/tenants/${t.id}/nodes`, { token: t.admin }));
    expect(nodes.nodes).toEqual([]);
  });

  it("an id made from the name that is taken, or that cannot be made, says so beside the Id field, which then shows it", async () => {
    const t = await newTenant("ui");
    await putNode(t, "ventas-vip", { interaction: "none" });
    const b = new Browser({ "accept-language": "es" });
    await b.signIn(t.admin);
    await b.page("/ui/nodes/new");
    const taken = await b.post("/ui/nodes/new", { ...validNode, name: "Ventas VIP", id: "" });
    expect(taken.status).toBe(400);
    const html = await taken.text();
    expect(html).toContain('id="f-id-err">El id sacado del nombre, ventas-vip, ya es de otro nodo: cámbielo aquí.</p>');
    expect(control(html, "Id")).toContain('value="ventas-vip"');
    expect(control(html, "Nombre")).toContain('value="Ventas VIP"');
    await b.page("/ui/nodes/new");
    const noLatin = await (await b.post("/ui/nodes/new", { ...validNode, name: "売上", id: "" })).text();
    expect(noLatin).toContain("id=\"f-id-err\">No se puede sacar un id de este nombre: escriba uno");
    // An id typed is refused in its own words, and kept as typed.
    await b.page("/ui/nodes/new");
    const typed = await (await b.post("/ui/nodes/new", { ...validNode, name: "Otro", id: "ventas-vip" })).text();
    expect(typed).toContain('id="f-id-err">Ya existe un nodo con este id.</p>');
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
    // Our own sentences, in Spanish, for this request only.
    const bad = await b.post("/ui/nodes/new", { ...validNode, attempts: "99" });
    const badHtml = await bad.text();
    expect(badHtml).toMatch(/id="f-attempts-err">Como máximo 20\.</);
    expect(badHtml).toMatch(/<a href="#f-attempts">Intentos: Como máximo 20\.</);
    const en = new Browser();
    await en.signIn(t.admin);
    await en.page("/ui/nodes/new");
    expect(await (await en.post("/ui/nodes/new", { ...validNode, attempts: "99" })).text()).toMatch(/id="f-attempts-err">At most 20\.</);
  });

  it("prefers English when its weight is higher, and the switch overrides the header", async () => {
    const b = new Browser({ "accept-language": "en-US,es;q=0.8" });
    expect((await b.page("/ui/login")).html).toContain("Admin key");
    const sw = await b.fetch("GET", "/ui/lang/es?back=%2Fui%2Flogin");
    expect(sw.status).toBe(303);
    expect(sw.headers.get("location")).toBe("/ui/login");
    expect((await b.page("/ui/login")).html).toContain("Clave de administrador");
    expect((await b.fetch("GET", "/ui/lang/en?back=%2Fui%2Flogin%3Fnext%3D%252Fui%252Fkeys")).headers.get("location")).toBe("/ui/login?next=%2Fui%2Fkeys");
    // The switch never redirects off the pages.
    expect((await b.fetch("GET", "/ui/lang/en?back=https%3A%2F%2Fevil.test%2F")).headers.get("location")).toBe("/ui/nodes");
    expect((await b.fetch("GET", "/ui/lang/en?back=%2F%2Fevil.test%2Fui%2F")).headers.get("location")).toBe("/ui/nodes");
  });
});

const restForm = (url: string, token = "s3cret-token") => ({
  _view: "form",
  id: "",
  kind: "rest",
  method: "GET",
  url,
  recordPath: "data.customer",
  "auth.type": "bearer",
  "auth.token": token,
  timeoutMs: "1500",
  "rules.0.when.t": "cmp",
  "rules.0.when.path": "plan",
  "rules.0.when.op": "eq",
  "rules.0.when.vt": "text",
  "rules.0.when.value": "gold",
  "rules.0.destination.kind": "route",
  "rules.0.destination.type": "1",
  "rules.0.destination.id": "3",
  "default.kind": "true",
  "notFound.kind": "false",
});

/** Each kind's required fields, typed into its generated form; everything else is the form's defaults. */
const KIND_INPUT: Record<string, Record<string, string>> = {
  webhook: { url: "https://crm.example/omnileads" },
  rest: { url: "https://crm.example/c/{idContact}", "auth.type": "bearer", "auth.token": "t0ken" },
  hubspot: { accessToken: "pat-1", idProperty: "customer_id" },
  salesforce: { instanceUrl: "https://acme.my.salesforce.com", sobject: "Contact", idField: "Customer_Id__c", "auth.type": "bearer", "auth.token": "sf" },
  zoho: { module: "Contacts", idField: "Customer_Id", clientId: "1000.x", clientSecret: "cs", refreshToken: "rt" },
  pipedrive: { apiToken: "pd", field: "abc123" },
  zendesk: { subdomain: "acme", email: "ops@acme.example", apiToken: "zd" },
  freshdesk: { domain: "acme", apiKey: "fd", field: "customer_id" },
  dynamics365: { orgUrl: "https://acme.crm4.dynamics.com", idField: "new_customerid", tokenUrl: "https://login.microsoftonline.com/t/oauth2/v2.0/token", clientId: "app", clientSecret: "cs" },
};
const SECRET_FIELDS = new Set(["auth.token", "accessToken", "clientSecret", "refreshToken", "apiToken", "apiKey"]);

describe("admin pages: connectors", () => {
  it("creates every kind through its generated form, no JSON typed, with the documented defaults", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    for (const [kind, typed] of Object.entries(KIND_INPUT)) {
      const { html } = await b.page(`/ui/connectors/new?kind=${kind}`);
      expect(html).not.toContain('name="config"');
      const res = await b.post("/ui/connectors/new", { ...formValues(html, "/ui/connectors/new"), ...typed, id: `c-${kind}` });
      expect(res.status, `${kind}: ${res.status === 400 ? /id="form-errors">[\s\S]*?<\/div>/.exec(await res.text())?.[0] : ""}`).toBe(303);
      const api = await json<Record<string, unknown>>(await call("GET", `/v1/tenants/${t.id}/connectors/c-${kind}`, { token: t.admin }));
      const expected = Object.entries(typed).reduce<Record<string, unknown>>((o, [k, v]) => {
        const [head, tail] = k.split(".") as [string, string | undefined];
        const value = SECRET_FIELDS.has(k) ? "***" : v;
        if (tail) o[head] = { ...(o[head] as object), [tail]: value };
        else o[head] = value;
        return o;
      }, {});
      expect(api).toMatchObject({ kind, timeoutMs: 1500, cache: { ttlSeconds: 60, negativeTtlSeconds: 10, staleIfErrorSeconds: 300 }, ...expected });
      expect(api).not.toHaveProperty("quota");
      if (kind !== "webhook") expect(api).toMatchObject({ rules: [], default: "true", notFound: "false" });
    }
    const hubspot = await json<Record<string, unknown>>(await call("GET", `/v1/tenants/${t.id}/connectors/c-hubspot`, { token: t.admin }));
    expect(hubspot).toMatchObject({ baseUrl: "https://api.hubapi.com", object: "contacts" });
  });

  it("creates a connector; its secret is write-only and kept when the field is left empty", async () => {
    const t = await newTenant("ui");
    const url = `${crmPath("rest", "found")}/{idContact}`;
    const b = new Browser();
    await b.signIn(t.admin);
    const { html: form } = await b.page("/ui/connectors/new?kind=rest");
    for (const label of ["Id", "Kind", "Timeout (ms)", "URL", "Token", "Default destination: destination"]) expect(() => control(form, label)).not.toThrow();
    expect(control(form, "Cache time (seconds)")).toContain('value="60"');
    expect(control(form, "Token")).toContain('type="password"');
    const res = await b.post("/ui/connectors/new", { ...restForm(url), id: "rest-crm" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui/connectors?saved=rest-crm");
    const { html } = await b.page("/ui/connectors/rest-crm");
    expect(html).not.toContain("s3cret-token");
    expect(control(html, "Token")).toContain('type="password"');
    expect(control(html, "Token")).toContain('value=""');
    expect(html).toContain("stored — leave empty to keep");

    // Saving the page as shown (the secret field empty) keeps the stored secret.
    const shown = formValues(html, "/ui/connectors/rest-crm");
    expect(shown["auth.token"]).toBe("");
    const again = await b.post("/ui/connectors/rest-crm", { ...shown, timeoutMs: "2000" });
    expect(again.status).toBe(303);
    const tried = await b.post("/ui/connectors/rest-crm/try", { idContact: "12340" });
    expect(tried.status).toBe(200);
    expect((await crmCalls(url.replace("{idContact}", "12340"))).last?.headers.authorization).toBe("Bearer s3cret-token");
    // A value typed into the secret field replaces it.
    await b.page("/ui/connectors/rest-crm");
    expect((await b.post("/ui/connectors/rest-crm", { ...shown, "auth.token": "new-token", timeoutMs: "2000" })).status).toBe(303);
    await b.post("/ui/connectors/rest-crm/try", { idContact: "12340" });
    expect((await crmCalls(url.replace("{idContact}", "12340"))).last?.headers.authorization).toBe("Bearer new-token");
    const api = await json(await call("GET", `/v1/tenants/${t.id}/connectors/rest-crm`, { token: t.admin }));
    expect(api).toMatchObject({ timeoutMs: 2000, auth: { type: "bearer", token: "***" } });
    // The Spanish page labels the same form in Spanish and says the same of the stored secret.
    const es = new Browser({ "accept-language": "es" });
    await es.signIn(t.admin);
    const { html: esHtml } = await es.page("/ui/connectors/rest-crm");
    expect(control(esHtml, "Ruta del registro")).toContain('value="data.customer"');
    expect(esHtml).toContain("guardado — déjelo vacío para conservarlo");
    expect(esHtml).toContain("Editar como JSON");
  });

  it("edits rules with the builder (add, group, reorder) and round-trips the API's JSON exactly", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    const rules = [
      { when: { all: [{ path: "properties.plan", op: "in", value: ["gold", 3, null] }, { not: { path: "vip", op: "exists", value: false } }] }, destination: "1,3" },
      { when: { path: "name", op: "matches", value: "^a.*z$", flags: "i" }, destination: "false" },
    ];
    const config = { kind: "rest", url: "https://crm.example/c/{idContact}", headers: { "X-Api-Key": "k3y" }, rules, default: "4,9", notFound: "true", quota: { requests: 5, perSeconds: 2 } };
    await putConnector(t, "crm", config);
    const before = await json<Record<string, unknown>>(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }));
    const { html } = await b.page("/ui/connectors/crm");
    expect(html).not.toContain("k3y");
    // Saved untouched, the form gives back exactly what the API holds.
    expect((await b.post("/ui/connectors/crm", formValues(html, "/ui/connectors/crm"))).status).toBe(303);
    expect(await json(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }))).toEqual(before);

    // Move rule 2 up, then add a rule: each button answers the page, nothing saved yet.
    let page = await b.post("/ui/connectors/crm", { ...formValues(html, "/ui/connectors/crm"), _act: "up:rules.1" });
    expect(page.status).toBe(200);
    let fields = formValues(await page.text(), "/ui/connectors/crm");
    expect(fields["rules.0.when.path"]).toBe("name");
    page = await b.post("/ui/connectors/crm", { ...fields, _act: "add-rule" });
    fields = formValues(await page.text(), "/ui/connectors/crm");
    expect(fields["rules.2.when.t"]).toBe("cmp");
    page = await b.post("/ui/connectors/crm", { ...fields, "rules.2.when.t": "any", _act: "refresh" });
    fields = formValues(await page.text(), "/ui/connectors/crm");
    Object.assign(fields, { "rules.2.when.0.path": "tier", "rules.2.when.0.vt": "json", "rules.2.when.0.op": "gte", "rules.2.when.0.value": "2", "rules.2.destination.kind": "route", "rules.2.destination.type": "3", "rules.2.destination.id": "7" });
    expect((await b.post("/ui/connectors/crm", fields)).status).toBe(303);
    const after = await json<Record<string, unknown>>(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }));
    expect(after.rules).toEqual([rules[1], rules[0], { when: { any: [{ path: "tier", op: "gte", value: 2 }] }, destination: "3,7" }]);
    expect(after).toMatchObject({ headers: { "X-Api-Key": "***" }, default: "4,9", notFound: "true", quota: { requests: 5, perSeconds: 2 } });
  });

  it("'try an id' shows the fields read, the rule that matched, the decision and the time", async () => {
    const t = await newTenant("ui");
    const url = `${crmPath("rest", "found")}/{idContact}`;
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/connectors/new?kind=rest");
    await b.post("/ui/connectors/new", { ...restForm(url), id: "crm" });
    await b.page("/ui/connectors/crm");
    const res = await b.post("/ui/connectors/crm/try", { idContact: "12342" });
    const html = await res.text();
    expect(html).toContain('id="try-result"');
    expect(html).toMatch(/Decision<\/th><td><code>1,3<\/code>/);
    expect(html).toMatch(/Rule that matched<\/th><td><code>#1 /);
    expect(html).toContain("<code>plan</code>");
    expect(html).toContain("<code>&quot;gold&quot;</code>");
    expect(html).toMatch(/Time<\/th><td>\d+ ms<\/td>/);
    const bad = await (await b.post("/ui/connectors/crm/try", { idContact: "12a" })).text();
    // The code, and what it means: a new admin does not know the reason codes.
    expect(bad).toContain("<code>invalid_id</code> · the id is not 1 to 30 digits");
    expect(bad).toContain('value="12a"');
  });

  it("'try an id' takes a caller number too: looked up by phone in the tenant's country, the matched customer shown masked", async () => {
    const t = await newTenant("ui");
    await hubspotConnector(t, "hs");
    await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "ui", defaultCountry: "ES" } });
    const b = new Browser();
    await b.signIn(t.admin);
    const { html: form } = await b.page("/ui/connectors/hs");
    expect(control(form, "or caller number")).toContain('name="callerNumber"');
    // A number typed wins over the id left in the other field.
    const res = await b.post("/ui/connectors/hs/try", { idContact: "12345", callerNumber: "911 23 45 67" });
    const html = await res.text();
    expect(html).toContain('id="try-result"');
    expect(html).toMatch(/Decision<\/th><td><code>1,3<\/code>/);
    expect(html).toMatch(/Customer matched<\/th><td><code>\*\*\*\*01<\/code>/);
    expect(html).not.toContain("700001");
    const withheld = await (await b.post("/ui/connectors/hs/try", { idContact: "", callerNumber: "anonymous" })).text();
    expect(withheld).toContain("<code>caller_number_unusable</code> · the caller&#39;s number could not be used");
    // Unknown numbers are an answer, as unknown ids are.
    const unknown = await (await b.post("/ui/connectors/hs/try", { callerNumber: "+34 919 99 99 99" })).text();
    expect(unknown).toContain("No record found.");
    // Without a number, the id is tried as before.
    const byId = await (await b.post("/ui/connectors/hs/try", { idContact: "12342", callerNumber: "" })).text();
    expect(byId).toMatch(/Decision<\/th><td><code>1,3<\/code>/);
    expect(byId).not.toContain("Customer matched");
  });

  it("'try an id' spends the connector's CRM quota: with none left it shows crm_quota and when to retry, and the CRM is not called", async () => {
    const t = await newTenant("ui");
    const url = `${crmPath("rest", "found")}/{idContact}`;
    await putConnector(t, "crm", { kind: "rest", url, recordPath: "data.customer", quota: { requests: 1, perSeconds: 60 }, cache: { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 }, rules: [], default: "true", notFound: "false" });
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/connectors/crm");
    expect(await (await b.post("/ui/connectors/crm/try", { idContact: "12350" })).text()).toContain('class="banner ok"');
    const refused = await (await b.post("/ui/connectors/crm/try", { idContact: "12351" })).text();
    expect(refused).toContain("<code>crm_quota</code>");
    expect(refused).toMatch(/the CRM quota for this connector is used up · try again in \d+ s/);
    expect((await crmCalls(url.replace("{idContact}", "12351"))).count).toBe(0);
  });

  it("shows each schema error beside its control, in the form and in the JSON view, and saves nothing", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/connectors/new?kind=rest");
    const broken = await b.post("/ui/connectors/new", { ...restForm("https://crm.example/x"), id: "c1", timeoutMs: "99999", "rules.0.when.op": "in" });
    expect(broken.status).toBe(400);
    const html = await broken.text();
    expect(control(html, "Timeout (ms)")).toContain('aria-describedby="f-timeoutMs-err');
    expect(html).toMatch(/id="f-url-err">Must contain \{idContact\}/);
    expect(html).toMatch(/id="f-rules-0-when-value-err">in takes a list of values/);
    // A typed secret is never echoed back.
    expect(html).not.toContain("s3cret-token");
    const { html: jsonPage } = await b.page("/ui/connectors/new?kind=rest&view=json");
    expect(control(jsonPage, "Connector settings (JSON)")).toBeTruthy();
    const notJson = await b.post("/ui/connectors/new", { _view: "json", id: "c1", config: "{nope" });
    expect(await notJson.text()).toMatch(/id="f-config-err">Not valid JSON, near line:column 1:2</);
    const badJson = await b.post("/ui/connectors/new", { _view: "json", id: "c1", config: JSON.stringify({ kind: "rest", url: "https://x.example/a", auth: { type: "bearer", token: "s3cret-token" } }) });
    const badHtml = await badJson.text();
    expect(badHtml).toMatch(/id="f-config-err">url: [^<]*\{idContact\}/);
    expect(badHtml).not.toContain("s3cret-token");
    expect((await call("GET", `/v1/tenants/${t.id}/connectors`, { token: t.admin }).then((r) => json<{ connectors: unknown[] }>(r))).connectors).toEqual([]);
    // The JSON view saves through the same validation.
    const ok = await b.post("/ui/connectors/new", { _view: "json", id: "c1", config: JSON.stringify({ kind: "webhook", url: "https://x.example/a" }) });
    expect(ok.status).toBe(303);
  });

  it("a bad header name is named as such beside the headers, linked from the summary, in both languages; the name typed is kept", async () => {
    for (const [lang, sentence, legend] of [
      ["en", "Expected an HTTP header name.", "Headers"],
      ["es", "Se esperaba un nombre de cabecera HTTP.", "Cabeceras"],
    ] as const) {
      const t = await newTenant("ui");
      const b = new Browser({ "accept-language": lang });
      await b.signIn(t.admin);
      await b.page("/ui/connectors/new?kind=rest");
      const res = await b.post("/ui/connectors/new", { ...restForm("https://crm.example/{idContact}"), id: "c1", "headers.0.name": "X Api Key", "headers.0.value": "v" });
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html, lang).toContain(`<p class="error" id="f-headers-err">${sentence}</p>`);
      expect(html, lang).toContain(`<a href="#f-headers">${legend}: ${sentence}</a>`);
      expect(html, lang).toContain('<fieldset id="f-headers">');
      expect(control(html, lang === "en" ? "Header name 1" : "Nombre de cabecera 1")).toContain('value="X Api Key"');
    }
    // The API says the same rule, at the key's path.
    const t = await newTenant("ui");
    const api = await call("PUT", `/v1/tenants/${t.id}/connectors/c1`, { token: t.admin, body: { kind: "rest", url: "https://crm.example/{idContact}", headers: { "X Api Key": "v" }, rules: [], default: "true", notFound: "false" } });
    expect(api.status).toBe(400);
    expect(JSON.stringify(await api.json())).toContain("headers.X Api Key: an HTTP header name");
  });

  it("refuses to delete a connector in use, naming the nodes, and deletes it once free", async () => {
    const t = await newTenant("ui");
    await putConnector(t, "used", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(t, "sales", { interaction: "crm_true_false", connector: "used" });
    await putNode(t, "support", { interaction: "crm_destination", connector: "used" });
    const b = new Browser();
    await b.signIn(t.admin);
    await b.page("/ui/connectors/used");
    const res = await b.post("/ui/connectors/used/delete", {});
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("these nodes use this connector: sales, support");
    await call("DELETE", `/v1/tenants/${t.id}/nodes/sales`, { token: t.admin });
    await call("DELETE", `/v1/tenants/${t.id}/nodes/support`, { token: t.admin });
    const ok = await b.post("/ui/connectors/used/delete", {});
    expect(ok.status).toBe(303);
    expect((await call("GET", `/v1/tenants/${t.id}/connectors/used`, { token: t.admin })).status).toBe(404);
  });
});

describe("admin pages: decisions and keys", () => {
  it("lists decisions with masked ids, filters by node and outcome, and draws the charts", async () => {
    const t = await newTenant("ui");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "by-id") });
    await putNode(t, "n1", { interaction: "crm_true_false", connector: "crm" });
    await putNode(t, "n2", { interaction: "none" });
    await (await identify(t, "n1", "5550012")).text();
    await (await identify(t, "n1", "5550013")).text();
    await (await identify(t, "n2", "12ab")).text();
    const b = new Browser();
    await b.signIn(t.admin);
    let html = "";
    for (let i = 0; i < 20; i++) {
      // Decision rows may be written just after the identify answer (waitUntil).
      html = (await b.page("/ui/decisions")).html;
      if ((html.match(/<time /g) ?? []).length >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Fixed width: the last 2 digits and the length, the UTC time on hover.
    expect(html).toContain("••••12 (7)");
    expect(html).not.toContain("5550012");
    expect(html).toMatch(/<time datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">/);
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
    expect(html).toContain("Last hour");
    for (const label of ["Node", "Outcome"]) expect(() => control(html, label)).not.toThrow();
    const byNode = (await b.page("/ui/decisions?node=n2")).html;
    expect((byNode.match(/<time /g) ?? []).length).toBe(1);
    expect(byNode).toContain("invalid_id");
    expect(byNode).toContain("the id is not 1 to 30 digits");
    const failures = (await b.page("/ui/decisions?outcome=failure")).html;
    expect(failures).toContain("••••13 (7)");
    expect(failures).not.toContain("••••12 (7)");
  });

  it("creates a key shown once, lists keys, and revokes one", async () => {
    const t = await newTenant("ui");
    const b = new Browser();
    await b.signIn(t.admin);
    const { html } = await b.page("/ui/keys");
    expect(html).toContain(t.adminId);
    expect(html).toContain(t.agentId);
    const res = await b.post("/ui/keys", { role: "agent" });
    expect(res.status).toBe(201);
    const key = /<code class="key" id="new-key">([^<]+)<\/code>/.exec(await res.text())![1]!;
    expect(key).toMatch(/^cbk_/);
    expect((await b.page("/ui/keys")).html).not.toContain(key);
    const id = key.split("_")[1]!;
    expect((await b.post(`/ui/keys/${id}/revoke`, {})).status).toBe(303);
    expect((await identify({ id: t.id, agent: key }, "any", "1")).status).toBe(401);
    // Revoking the session's own key ends the session.
    await b.page("/ui/keys");
    expect((await b.post(`/ui/keys/${t.adminId}/revoke`, {})).headers.get("location")).toBe("/ui/login");
    expect((await b.fetch("GET", "/ui/keys")).status).toBe(303);
  });
});

/** Every string of a dictionary, functions called with stand-in arguments. */
function strings(o: unknown): string[] {
  if (typeof o === "string") return [o];
  if (typeof o === "function") return [String((o as (...a: unknown[]) => unknown)("0", "0"))];
  if (o && typeof o === "object") return Object.values(o).flatMap(strings);
  return [];
}
const words = (s: string) => s.toLowerCase().match(/[a-z\u00c0-\u017f']{3,}/g) ?? [];

/**
 * The UI's own English words that Spanish never uses: any of them on a Spanish page is an
 * untranslated string (words both dictionaries share, such as "url" or "JSON", are left out).
 */
const spanish = new Set([dict("es"), formText("es")].flatMap(strings).flatMap(words));

/**
 * zod's own English, as its locale writes each kind of issue: a message that slipped past
 * issues.ts ("Invalid input: expected number, received undefined", "Too small: expected string
 * to have >=1 characters") shows these words.
 */
const ZOD_SAMPLES: Array<Record<string, unknown>> = [
  { code: "invalid_type", expected: "number", input: undefined },
  { code: "invalid_type", expected: "string", input: 1 },
  { code: "invalid_type", expected: "object", input: [] },
  { code: "invalid_value", values: ["a"] },
  { code: "invalid_value", values: ["a", "b"] },
  ...["string", "array", "set", "map", "number"].flatMap((origin) => [
    { code: "too_small", origin, minimum: 1, inclusive: true },
    { code: "too_big", origin, maximum: 1, inclusive: false },
    { code: "too_big", origin, maximum: 1, exact: true },
  ]),
  ...["regex", "url", "email", "uuid", "datetime", "e164"].map((format) => ({ code: "invalid_format", format, pattern: "/x/" })),
  { code: "invalid_format", format: "starts_with", prefix: "x" },
  { code: "invalid_format", format: "ends_with", suffix: "x" },
  { code: "invalid_format", format: "includes", includes: "x" },
  { code: "not_multiple_of", divisor: 2 },
  { code: "unrecognized_keys", keys: ["a", "b"] },
  { code: "invalid_key", origin: "record" },
  { code: "invalid_union", options: ["a"] },
  { code: "invalid_union", inclusive: false },
  { code: "invalid_union" },
  { code: "invalid_element", origin: "map" },
  { code: "custom" },
];
const zodEnglish = (): string[] => {
  const text = z.locales.en().localeError as unknown as (issue: Record<string, unknown>) => string | { message: string };
  return ZOD_SAMPLES.map((i) => text(i)).map((m) => (typeof m === "string" ? m : m.message));
};
const ENGLISH = [...new Set([dict("en"), formText("en"), zodEnglish()].flatMap(strings).flatMap(words))].filter((w) => !spanish.has(w));

/** What a reader sees or hears: text, titles and labels; not the user's own data in textareas and code. */
function visibleText(html: string): string {
  // A placeholder's example path (properties.plan) is the CRM's words, as in the text below.
  const attrs = [...html.matchAll(/\b(?:title|aria-label|placeholder)="([^"]*)"/g)].map((m) => m[1]!.replace(/\b[A-Za-z]\w*(?:\.\w+)+/g, " "));
  const text = html
    // The JSON view locates each error by the user's own key ("headers: …", "headers.X Y: …").
    .replace(/(id="f-config-err">|\(JSON\): |; )[A-Za-z][\w-]*(?:\.[^:;<.]+)*: /g, "$1")
    .replace(/<(style|script|textarea|code)\b[^>]*>[\s\S]*?<\/\1>/g, " ")
    // The switch to English is named in English on purpose (lang="en").
    .replace(/<a [^>]*\blang="en"[^>]*>[^<]*<\/a>/g, " ")
    .replace(/<[^>]+>/g, " ")
    // A JSON path the user wrote (rules.0.when.value) locates an error; it is their words, not ours.
    .replace(/\b[A-Za-z]\w*(?:\.\w+)+/g, " ");
  return [text, ...attrs].join(" ").replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
}

function englishIn(html: string): string[] {
  const seen = new Set(words(visibleText(html)));
  return ENGLISH.filter((w) => seen.has(w));
}

describe("admin pages: Spanish is Spanish", () => {
  it("derives a real list of English words from the English dictionary", () => {
    expect(ENGLISH.length).toBeGreaterThan(100);
    for (const w of ["the", "save", "delete", "enter", "required", "least"]) expect(ENGLISH).toContain(w);
    // zod's default messages, whatever our dictionaries say.
    for (const w of ["invalid", "input", "expected", "received", "too", "small", "unrecognized", "characters"]) expect(ENGLISH).toContain(w);
    expect(englishIn("<p>Invalid input: expected number, received undefined</p>")).toEqual(expect.arrayContaining(["invalid", "input", "expected", "received"]));
    expect(englishIn("<p>Save the node</p>")).toEqual(["save", "the", "node"].filter((w) => ENGLISH.includes(w)).sort((a, b) => ENGLISH.indexOf(a) - ENGLISH.indexOf(b)));
  });

  it("walks every page and form error in es and finds none of the UI's English words", async () => {
    const t = await newTenant("ui");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "by-id") });
    await putNode(t, "n1", { interaction: "crm_true_false", connector: "crm", expectedLength: 7 });
    await (await identify(t, "n1", "5550012")).text();
    await (await identify(t, "n1", "12")).text();
    await (await identify(t, "n1", "12ab")).text();
    const b = new Browser({ "accept-language": "es-ES,es;q=0.9" });
    const pages: Array<[string, string]> = [];
    const look = async (name: string, res: Response | Promise<Response>) => pages.push([name, await (await res).text()]);

    await look("login", b.fetch("GET", "/ui/login"));
    await b.page("/ui/login");
    await look("login: wrong key", b.post("/ui/login", { key: "cbk_nope" }));
    await look("login: expired form", b.post("/ui/login", { key: "x", _csrf: "stale" }, false));
    await look("login: session ended", b.fetch("GET", "/ui/login?ended=1"));
    await b.signIn(t.admin);

    for (const path of ["/ui/nodes", "/ui/nodes/new", "/ui/nodes/n1", "/ui/connectors", "/ui/connectors/new", "/ui/connectors/crm", "/ui/decisions", "/ui/decisions?node=n1&outcome=failure", "/ui/keys", "/ui/nodes/nope"]) {
      await look(path, b.fetch("GET", path));
    }
    // Decisions of a tenant with no calls: the empty charts.
    const quiet = await newTenant("ui");
    const q = new Browser({ "accept-language": "es" });
    await q.signIn(quiet.admin);
    const empty = (await q.page("/ui/decisions")).html;
    expect(empty).toContain("todavía no hay llamadas");
    expect(empty).not.toContain(" ms</text>");
    pages.push(["decisions: empty", empty]);

    await b.page("/ui/nodes/new");
    const blank = Object.fromEntries(Object.keys(validNode).map((k) => [k, ""]));
    await look("node: everything empty", b.post("/ui/nodes/new", { ...blank, name: "x", interaction: "crm_destination" }));
    await look("node: bad values", b.post("/ui/nodes/new", { ...validNode, id: "Bad Id!", attempts: "99", timeoutSeconds: "0", expectedLength: "1.5", "successDestination.id": "abc" }));
    await look("node: no such connector", b.post("/ui/nodes/new", { ...validNode, interaction: "crm_destination", connector: "ghost" }));
    // A page older than the server (or edited in the browser's tools) sends values no select offers.
    await look("node: values no select offers", b.post("/ui/nodes/new", { ...validNode, interaction: "crm_lookup", identifyBy: "voice" }));
    await look("node: exists", b.post("/ui/nodes/new", { ...validNode, id: "n1" }));
    await look("node: reserved id", b.post("/ui/nodes/new", { ...validNode, id: "new" }));

    for (const path of ["/ui/connectors/new?kind=rest&view=json", "/ui/connectors/new?kind=salesforce", "/ui/connectors/new?kind=hubspot", "/ui/connectors/new?kind=zoho"]) {
      await look(path, b.fetch("GET", path));
    }
    await b.page("/ui/connectors/new?kind=rest");
    await look("connector: no id", b.post("/ui/connectors/new", { ...restForm("https://crm.example/{idContact}"), id: "" }));
    await look("connector: bad id and values", b.post("/ui/connectors/new", { ...restForm("https://crm.example/x"), id: "Bad Id", timeoutMs: "99999", "rules.0.when.op": "in" }));
    await look("connector: bad JSON", b.post("/ui/connectors/new", { _view: "json", id: "c1", config: "{nope" }));
    await look(
      "connector: schema errors",
      b.post("/ui/connectors/new", {
        _view: "json",
        id: "c2",
        config: JSON.stringify({ kind: "rest", method: "GET", url: "notaurl", zzz: 1, rules: [{ when: { path: "a", op: "in", value: 1 }, destination: "1,2" }] }),
      }),
    );
    // Every kind's settings all wrong, in the JSON view: zod's English must not come through.
    for (const kind of ["webhook", "rest", "hubspot", "salesforce", "zoho", "pipedrive", "zendesk", "freshdesk", "dynamics365"]) {
      const config = { kind, url: 5, timeoutMs: "x", ...(kind === "rest" ? { headers: { "bad name": 1 } } : {}), rules: [{ when: { all: [] }, destination: "x" }, { when: { path: "", op: "matches", value: "(" }, destination: "13,1" }], cache: { ttlSeconds: -1 }, quota: { requests: 0 }, zzz: 1 };
      await look(`connector: ${kind} all wrong`, b.post("/ui/connectors/new", { _view: "json", id: `all-${kind}`, config: JSON.stringify(config) }));
    }
    await b.page("/ui/connectors/new?kind=rest");
    await look("connector: bad header name", b.post("/ui/connectors/new", { ...restForm("https://crm.example/{idContact}"), id: "h1", "headers.0.name": "bad name", "headers.0.value": "v" }));
    await putConnector(t, "metered", { kind: "webhook", url: crmPath("contract", "by-id"), quota: { requests: 5, perSeconds: 1, daily: 100, concurrency: 2 } });
    await look("connector with its own quota", b.fetch("GET", "/ui/connectors/metered"));
    await look("connector: in use", b.post("/ui/connectors/crm/delete", {}));
    await b.page("/ui/keys");
    await look("keys: bad role", b.post("/ui/keys", { role: "root" }));
    await b.page("/ui/keys");
    await look("keys: bad time zone", b.post("/ui/keys/time-zone", { timeZone: "Mars/Olympus" }));
    await b.page("/ui/keys");
    await look("keys: bad country", b.post("/ui/keys/default-country", { defaultCountry: "E5" }));
    await b.page("/ui/keys");
    await look("keys: country without a numbering plan", b.post("/ui/keys/default-country", { defaultCountry: "XX" }));
    await look("keys: country saved", b.fetch("GET", "/ui/keys?saved=default-country"));
    await hubspotConnector(t, "hs");
    await b.page("/ui/connectors/hs");
    await look("connector: tried a number", b.post("/ui/connectors/hs/try", { callerNumber: "+34 911 23 45 67" }));
    for (const [name, idContact, callerNumber] of [["try: bad id", "12ab", ""], ["try: empty", "", ""], ["try: unusable number", "", "anonymous"]] as const) {
      await b.page("/ui/connectors/hs");
      await look(name, b.post("/ui/connectors/hs/try", { idContact, callerNumber }));
    }
    // Back from a CRM's consent: the hop page, and a consent that expired or was never started here.
    await look("oauth: back from the CRM", b.fetch("GET", "/ui/oauth/callback?state=x&code=y"));
    await look("oauth: consent expired", b.fetch("GET", "/ui/oauth/finish?state=x&code=y"));
    await look("oauth: refused at the CRM", b.fetch("GET", "/ui/oauth/finish?state=x&error=access_denied"));
    await look("csrf refused", b.post("/ui/keys", { role: "agent" }, false));

    const leaks = pages.map(([name, html]) => [name, englishIn(html)] as const).filter(([, found]) => found.length);
    expect(leaks).toEqual([]);
    // Every page above is Spanish, and the error pages did show errors.
    for (const [name, html] of pages) expect(html, name).toContain('<html lang="es">');
    const errorPages = pages.filter(([name]) => name.includes(":") && !name.startsWith("decisions") && !/saved|tried|quota|back from/.test(name));
    for (const [name, html] of errorPages) expect(html, name).toMatch(/class="(error|banner err)"/);
    const tried = pages.find(([name]) => name === "connector: tried a number")![1];
    expect(tried).toMatch(/Cliente encontrado<\/th><td><code>\*\*\*\*01<\/code>/);
    expect(pages.find(([name]) => name === "keys: bad country")![1]).toMatch(/id="f-defaultCountry-err">Se esperaba un código de país/);
    expect(pages.find(([name]) => name === "connector with its own quota")![1]).toContain("5 / 1 s, 100 al día, 2 a la vez");
    expect(pages.find(([name]) => name === "connector: rest all wrong")![1]).toContain("Como mínimo un elemento.");
    // Every error at once: the missing connector beside the others, not after they are fixed.
    const allEmpty = pages.find(([name]) => name === "node: everything empty")![1];
    expect(allEmpty).toContain('id="f-connector-err">Elija un conector: los tipos de interacción con CRM lo necesitan.</p>');
    expect(allEmpty.match(/<p class="error" id="f-/g)!.length).toBeGreaterThan(2);
    const stale = pages.find(([name]) => name === "node: values no select offers")![1];
    expect(stale).toContain('id="f-interaction-err">Elija una de las opciones de la lista.</p>');
    expect(stale).toContain('id="f-identifyBy-err">Elija una de las opciones de la lista.</p>');
    // A refused try says what its code means, in Spanish.
    expect(pages.find(([name]) => name === "try: bad id")![1]).toContain("<code>invalid_id</code> · el id no tiene de 1 a 30 dígitos");
    expect(pages.find(([name]) => name === "try: unusable number")![1]).toContain("<code>caller_number_unusable</code> · no se pudo usar el número de quien llama");
  });
});

describe("tenant time zone", () => {
  it("is set through PUT /v1/tenants/:tenant, checked by Intl, and the pages show times in it with UTC on hover", async () => {
    const t = await newTenant("tz");
    const bad = await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "x", timeZone: "Mars/Olympus" } });
    expect(bad.status).toBe(400);
    const ok = await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "x", timeZone: "America/Argentina/Buenos_Aires" } });
    expect(await json(ok)).toEqual({ id: t.id, name: "x", timeZone: "America/Argentina/Buenos_Aires", defaultCountry: null });
    // Left out, the zone is kept.
    expect(await json(await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "y" } }))).toMatchObject({ timeZone: "America/Argentina/Buenos_Aires" });
    await putNode(t, "n2", { interaction: "none" });
    await (await identify(t, "n2", "12")).text();
    const b = new Browser();
    await b.signIn(t.admin);
    let html = "";
    for (let i = 0; i < 20 && !html.includes("<time "); i++) {
      html = (await b.page("/ui/decisions")).html;
      if (!html.includes("<time ")) await new Promise((r) => setTimeout(r, 100));
    }
    const m = /<time datetime="([^"]+)" title="([^"]+)">([^<]+)<\/time>/.exec(html)!;
    const utc = new Date(m[1]!);
    // Buenos Aires is UTC−3 all year.
    expect(m[3]).toBe(new Date(utc.getTime() - 3 * 3600_000).toISOString().replace("T", " ").slice(0, 19));
    expect(m[2]).toBe(`${m[1]!.replace("T", " ").slice(0, 19)} UTC`);
    expect(html).toContain("America/Argentina/Buenos_Aires");

    // The tenant admin sets it too, on the keys page.
    await b.page("/ui/keys");
    const refused = await b.post("/ui/keys/time-zone", { timeZone: "Nowhere/Else" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/id="f-timeZone-err">Not a time zone name/);
    await b.page("/ui/keys");
    expect((await b.post("/ui/keys/time-zone", { timeZone: "Europe/Madrid" })).headers.get("location")).toBe("/ui/keys?saved=time-zone");
    expect((await b.page("/ui/keys?saved=time-zone")).html).toContain('value="Europe/Madrid"');
  });
});

describe("tenant default country", () => {
  it("the tenant admin sets it on the keys page (any case), sees a refused one beside its field, and clears it", async () => {
    const t = await newTenant("dc");
    const b = new Browser();
    await b.signIn(t.admin);
    const country = async () => (await json<{ defaultCountry: string | null }>(await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "dc" } }))).defaultCountry;
    const { html } = await b.page("/ui/keys");
    expect(control(html, "Default country for caller numbers")).toContain('value=""');
    const refused = await b.post("/ui/keys/default-country", { defaultCountry: "Spain" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/id="f-defaultCountry-err">Expected a country code in capitals such as ES/);
    await b.page("/ui/keys");
    const noPlan = await b.post("/ui/keys/default-country", { defaultCountry: "XX" });
    expect(await noPlan.text()).toMatch(/id="f-defaultCountry-err">Not a country with a telephone numbering plan/);
    expect(await country()).toBeNull();
    await b.page("/ui/keys");
    expect((await b.post("/ui/keys/default-country", { defaultCountry: "ar" })).headers.get("location")).toBe("/ui/keys?saved=default-country");
    const saved = (await b.page("/ui/keys?saved=default-country")).html;
    expect(saved).toContain("Default country saved.");
    expect(control(saved, "Default country for caller numbers")).toContain('value="AR"');
    expect(await country()).toBe("AR");
    await b.post("/ui/keys/default-country", { defaultCountry: "" });
    expect(await country()).toBeNull();
  });
});
