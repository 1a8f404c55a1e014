import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connectorModule, connectorModules } from "../../worker/connectors/registry.js";
import { splitSecrets } from "../../worker/connectors/secrets.js";
import { crmFixtures } from "../support/fake-crms/fixtures.js";
import { call, crmUrl, identify, json, newTenant, putConnector, putNode, waitForDecisions } from "./helpers.js";
import { formValues } from "./form-values.js";

/**
 * Issue 9, finding 1: a tenant admin must not be able to read back (or send elsewhere) a CRM
 * secret they cannot see. Every kind, with its secret and destination fields taken from its
 * schema, is attacked by moving a destination under "***" to an echoing CRM.
 */

const ID = "424242";
const LEGIT = "https://legit.example.com";
const echoBase = () => `${crmUrl()}/u/${crypto.randomUUID()}/echo/${ID}`;
async function echoCalls(base: string): Promise<number> {
  const u = new URL(base);
  const res = await fetch(`${u.origin}/_calls?path=${encodeURIComponent(u.pathname.replace(/\/\d+$/, ""))}`);
  return ((await res.json()) as { count: number }).count;
}

let seq = 0;
// Header-borne secrets must be ASCII (HTTP header values are bytes); Basic passwords carry UTF-8.
const sec = (name: string) => `S3cret-${name}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

// Rule paths pointed at what the edge itself sends (the echo also returns its own access_token,
// which the edge did not send, so it is not read); "id" is the record's own field, the control.
const READS = ["id", "auth", "headers.authorization", "headers.x-api-key", "headers.x-api-token", "headers.x-secret", "body", "query.q", "query.criteria"];
const rules = { rules: READS.map((path) => ({ when: { path, op: "eq", value: "never" }, destination: "1,1" })), default: "true", notFound: "false" };

/** A config without some of its fields (the OAuth variants replace a static token). */
function without(config: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !keys.includes(k)));
}

/** One valid config per kind pointed at `base`, with fresh secrets in every secret field it has. */
function configs(base: string): Record<string, Array<Record<string, unknown>>> {
  const fx = (kind: string) => ({ ...crmFixtures[kind]!.config(base), ...rules });
  const oauth = (tokenUrl: string) => ({ tokenUrl, clientId: "cid", clientSecret: sec("cs"), refreshToken: sec("rt") });
  return {
    webhook: [
      { kind: "webhook", url: `${base}/hook`, auth: { type: "basic", username: "josé", password: `${sec("pw")}-contraseña€` } },
      { kind: "webhook", url: `${base}/hook`, auth: { type: "bearer", token: sec("token") } },
      { kind: "webhook", url: `${base}/hook`, auth: { type: "header", name: "X-Secret", value: sec("hv") } },
    ],
    rest: [
      { kind: "rest", url: `${base}/rec/{idContact}`, headers: { "X-Api-Key": sec("hdr") }, auth: { type: "header", name: "X-Secret", value: sec("auth") }, ...rules },
      { kind: "rest", url: `${base}/rec/{idContact}`, auth: { type: "basic", username: "josé", password: `${sec("pw")}-contraseña€` }, ...rules },
      { kind: "rest", url: `${base}/rec/{idContact}`, auth: { type: "bearer", token: sec("token") }, ...rules },
    ],
    hubspot: [{ ...fx("hubspot"), accessToken: sec("at") }, { ...without(fx("hubspot"), "accessToken"), oauth: oauth(`${base}/oauth/v1/token`) }],
    salesforce: [
      { ...fx("salesforce"), auth: { type: "oauth", tokenUrl: `${base}/services/oauth2/token`, clientId: "cid", clientSecret: sec("cs"), refreshToken: sec("rt") } },
      { ...fx("salesforce"), auth: { type: "bearer", token: sec("token") } },
    ],
    zoho: [{ ...fx("zoho"), clientSecret: sec("cs"), refreshToken: sec("rt") }],
    pipedrive: [{ ...fx("pipedrive"), apiToken: sec("pt"), field: "cf" }, { ...without(fx("pipedrive"), "apiToken"), field: "cf", oauth: oauth(`${base}/oauth/token`) }],
    zendesk: [{ ...fx("zendesk"), apiToken: sec("zt") }, { ...without(fx("zendesk"), "apiToken", "email"), oauth: oauth(`${base}/oauth/tokens`) }],
    freshdesk: [{ ...fx("freshdesk"), apiKey: sec("fk") }],
    dynamics365: [{ ...fx("dynamics365"), clientSecret: sec("cs") }, { ...fx("dynamics365"), clientSecret: sec("cs"), refreshToken: sec("rt") }],
  };
}

const secretsOf = (config: Record<string, unknown>) => splitSecrets(config, connectorModule(String(config.kind)).secrets).secrets;
const masked = (config: Record<string, unknown>) => splitSecrets(config, connectorModule(String(config.kind)).secrets).masked;

function setPath(obj: Record<string, unknown>, path: string, value: string) {
  const parts = path.split(".");
  let at = obj;
  for (const p of parts.slice(0, -1)) at = at[p] as Record<string, unknown>;
  at[parts.at(-1)!] = value;
}
function getPath(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** The config with one destination field moved to `echo`, as an attacker would write it. */
function moved(config: Record<string, unknown>, field: string, compare: string, echo: string): Record<string, unknown> {
  const out = structuredClone(config);
  const value = String(getPath(out, field));
  setPath(out, field, compare === "name" ? "attacker" : value.startsWith(LEGIT) ? echo + value.slice(LEGIT.length) : echo);
  return out;
}

/** Every form of every secret an echo might carry back, and the access tokens it issued. */
function leaks(config: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [, v] of secretsOf(config)) out.push(v, encodeURIComponent(v));
  const auth = config.auth as { type?: string; username?: string; password?: string } | undefined;
  if (auth?.type === "basic") out.push(btoa(String.fromCharCode(...new TextEncoder().encode(`${auth.username}:${auth.password}`))));
  return out;
}
const expectNoLeak = (text: string, config: Record<string, unknown>) => {
  for (const s of [...leaks(config), "echo-token-"]) expect(text).not.toContain(s);
};

describe("every kind's secrets come from its schema", () => {
  it("the sample configs cover every secret field the schemas mark", () => {
    const all = configs(LEGIT);
    for (const m of connectorModules) {
      const covered = new Set(all[m.kind]!.flatMap((c) => secretsOf(c).map(([p]) => (p[0] === "headers" ? "headers.*" : p.join(".")))));
      expect([...covered].sort(), m.kind).toEqual([...m.secrets].sort());
    }
  });

  for (const m of connectorModules) {
    it(`${m.kind}: masked on GET and sealed in D1 (no plaintext in the row)`, async () => {
      const t = await newTenant("seal");
      for (const [i, config] of configs(LEGIT)[m.kind]!.entries()) {
        const res = await call("PUT", `/v1/tenants/${t.id}/connectors/c${i}`, { token: t.admin, body: config });
        expect(res.status, await res.clone().text()).toBe(201);
        const put = await res.text();
        const got = await (await call("GET", `/v1/tenants/${t.id}/connectors/c${i}`, { token: t.admin })).text();
        const list = await (await call("GET", `/v1/tenants/${t.id}/connectors`, { token: t.admin })).text();
        for (const [p] of secretsOf(config)) expect(getPath(JSON.parse(got), p.join(".")), p.join(".")).toBe("***");
        const row = await env.DB.prepare("SELECT config, secrets FROM connectors WHERE tenant_id = ? AND id = ?").bind(t.id, `c${i}`).first<{ config: string; secrets: string }>();
        expect(row?.secrets).toBeTruthy();
        for (const text of [put, got, list, row!.config, row!.secrets]) expectNoLeak(text, config);
      }
    });
  }
});

describe('a stored secret stays bound to where it was entered: "***" cannot follow a moved destination', () => {
  for (const m of connectorModules) {
    it(`${m.kind}: moving any destination under "***" is refused with secret_required, and the new server hears nothing`, async () => {
      const t = await newTenant("bound");
      const config = configs(LEGIT)[m.kind]![0]!;
      await putConnector(t, "crm", config);
      const stored = await json<Record<string, unknown>>(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }));
      const { id: _id, ...asShown } = stored;
      expect(m.destinations.length).toBeGreaterThan(0);
      const echo = echoBase();
      const attacks = m.destinations.flatMap((d) => (getPath(asShown, d.pattern) === undefined ? [] : [moved(asShown, d.pattern, d.compare, echo)]));
      // Every destination at once, too.
      attacks.push(m.destinations.reduce((c, d) => (getPath(c, d.pattern) === undefined ? c : moved(c, d.pattern, d.compare, echo)), asShown));
      expect(attacks.length).toBeGreaterThan(1);
      for (const attack of attacks) {
        const res = await call("PUT", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin, body: attack });
        const text = await res.text();
        expect(res.status, text).toBe(400);
        const body = JSON.parse(text) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("secret_required");
        for (const [p] of secretsOf(config)) expect(body.error.message).toContain(p.join("."));
        expectNoLeak(text, config);
      }
      expect(await echoCalls(echo)).toBe(0);
      expect(await json(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }))).toEqual(stored);
    });
  }

  it('changing the kind counts as moving: rest "***" auth cannot become a webhook\'s', async () => {
    const t = await newTenant("kind");
    const config = configs(LEGIT).rest![2]!;
    await putConnector(t, "crm", config);
    const echo = echoBase();
    const res = await call("PUT", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin, body: { kind: "webhook", url: LEGIT, auth: { type: "bearer", token: "***" } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "secret_required", message: expect.stringContaining("auth.token") });
    expect(await echoCalls(echo)).toBe(0);
  });

  it("webhook and rest: on a shared host the path names the owner (a Zapier hook, an Apps Script), so another path is a move", async () => {
    // Two hooks on one server: the tenant's own, and one the attacker reads.
    const own = `${crmUrl()}/u/${crypto.randomUUID()}/echo/${ID}`;
    const attacker = echoBase();
    for (const [i, config] of [configs(own).webhook![1]!, configs(own).rest![2]!].entries()) {
      const t = await newTenant("path");
      await putConnector(t, "crm", config);
      const { id: _id, ...shown } = await json<Record<string, unknown>>(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }));
      const res = await call("PUT", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin, body: { ...shown, url: String(shown.url).replace(own, attacker) } });
      const text = await res.text();
      expect(res.status, `${i}: ${text}`).toBe(400);
      expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe("secret_required");
      await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { idContact: ID } });
    }
    expect(await echoCalls(attacker)).toBe(0);
  });

  it("the same origin keeps the secret: another path on the same server is not a move", async () => {
    const t = await newTenant("same");
    const config = configs(LEGIT).hubspot![0]!;
    await putConnector(t, "crm", config);
    const res = await call("PUT", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin, body: { ...masked(config), baseUrl: `${LEGIT}/other/` } });
    expect(res.status).toBe(200);
  });
});

/** A signed-in admin page session: cookies kept, the page's CSRF token read back. */
async function uiSession(key: string, lang = "en") {
  const cookies = new Map<string, string>();
  const go = async (method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { "accept-language": lang };
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await (exports as unknown as { default: Fetcher }).default.fetch(`http://edge.test${path}`, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: "manual" });
    for (const sc of res.headers.getAll("set-cookie")) {
      const [pair] = sc.split(";");
      const eq = pair!.indexOf("=");
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const html = await res.text();
    return { res, html, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "" };
  };
  const login = await go("GET", "/ui/login");
  expect((await go("POST", "/ui/login", { _csrf: login.csrf, key })).res.status).toBe(303);
  return go;
}

/** "Try an id" on the connector's page, as an admin presses it. */
async function uiTry(key: string, connector: string, idContact: string): Promise<string> {
  const go = await uiSession(key);
  const page = await go("GET", `/ui/connectors/${connector}`);
  const tried = await go("POST", `/ui/connectors/${connector}/try`, { _csrf: page.csrf, idContact });
  expect(tried.res.status).toBe(200);
  expect(tried.html).toContain('id="try-result"');
  return tried.html;
}

describe("the connector page says which secrets to type again", () => {
  for (const [lang, moved, retype] of [
    ["en", "Where the secrets are sent changed: baseUrl", "Type this secret again"],
    ["es", "Cambió adónde se envían los secretos: baseUrl", "Escriba este secreto de nuevo"],
  ] as const) {
    it(`${lang}: next to the secret field, and nothing saved or sent`, async () => {
      const t = await newTenant("uimove");
      const config = configs(LEGIT).hubspot![0]!;
      await putConnector(t, "crm", config);
      const go = await uiSession(t.admin, lang);
      const page = await go("GET", "/ui/connectors/crm");
      const echo = echoBase();
      // What the browser submits from the page as drawn (secrets drawn empty), with the CRM moved.
      const form = { ...formValues(page.html, "/ui/connectors/crm"), _csrf: page.csrf, baseUrl: echo, accessToken: "" };
      const saved = await go("POST", "/ui/connectors/crm", form);
      expect(saved.res.status).toBe(400);
      expect(saved.html).toContain(moved);
      // The message sits under the accessToken field, tied to it for screen readers.
      const field = /<input[^>]*name="accessToken"[^>]*>/.exec(saved.html)![0];
      const errId = /aria-describedby="([^" ]*-err)/.exec(field)?.[1];
      expect(errId).toBeTruthy();
      expect(new RegExp(`id="${errId}"[^>]*>${retype}`).test(saved.html)).toBe(true);
      expectNoLeak(saved.html, config);
      expect(await echoCalls(echo)).toBe(0);
      // Typing the secret again with the new server is accepted.
      const again = await go("POST", "/ui/connectors/crm", { ...form, _csrf: saved.csrf || page.csrf, accessToken: "a-new-token-typed-by-someone-who-knows" });
      expect(again.res.status).toBe(303);
    });
  }
});

async function decisionLog(t: { id: string; admin: string }): Promise<string> {
  const decisions = await waitForDecisions(t);
  if (!decisions.length) throw new Error("no decision logged");
  return JSON.stringify({ decisions });
}

describe("nothing the edge sent comes back as a CRM's record", () => {
  for (const m of connectorModules) {
    it(`${m.kind}: re-entering every secret moves it; an echoing CRM's copy never reaches the test, the try page, the decision log or an error`, async () => {
      const t = await newTenant("echo");
      await putConnector(t, "crm", configs(LEGIT)[m.kind]![0]!);
      const echo = echoBase();
      // The admin who knows the secrets types them again for the new server: accepted.
      const variants = configs(echo)[m.kind]!;
      for (const config of variants) {
        const res = await call("PUT", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin, body: config });
        expect(res.status, await res.clone().text()).toBe(200);
        expectNoLeak(await res.text(), config);

        const test = await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { idContact: ID } });
        const text = await test.text();
        const r = JSON.parse(text) as { ok: boolean; fields?: Record<string, unknown> };
        expect(r.ok, text).toBe(true);
        expectNoLeak(text, config);
        if (m.kind !== "webhook") {
          // The record was read (its own id shows), and what it echoed of the request was not.
          expect(r.fields?.id).toBe(ID);
          expect(Object.values(r.fields ?? {})).toContain("[redacted]");
        }
        expectNoLeak(await uiTry(t.admin, "crm", ID), config);
      }
      expect(await echoCalls(echo)).toBeGreaterThan(0);

      const last = variants.at(-1)!;
      await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
      const answer = await identify(t, "n", ID);
      expect(answer.status).toBe(200);
      expectNoLeak(await answer.text(), last);
      expectNoLeak(await decisionLog(t), last);
    });
  }
});

describe("the customer id a number lookup reads (idPath) is the CRM's, never something the edge sent", () => {
  // A numeric API key fits the customer id pattern: read back through idPath it would be the
  // identify answer's idContact (in full, to any agent key) and the test's masked id.
  const digits = () => `7${Array.from(crypto.getRandomValues(new Uint8Array(19)), (b) => b % 10).join("")}`;
  const cases = (base: string, secret: string): Array<[string, Record<string, unknown>]> => [
    ["rest header", { kind: "rest", url: `${base}/rec?phone={callerNumber}`, headers: { "X-Api-Key": secret }, idPath: "headers.x-api-key", default: "1,3" }],
    ["rest auth header", { kind: "rest", url: `${base}/rec?phone={callerNumber}`, auth: { type: "header", name: "X-Secret", value: secret }, idPath: "headers.x-secret", default: "1,3" }],
    ["pipedrive api token", { ...crmFixtures.pipedrive!.config(base), apiToken: secret, field: "cf", idPath: "headers.x-api-token", default: "1,3" }],
  ];
  for (const [name] of cases("", "")) {
    it(`${name}: the echoed key names no customer, in the test or in identify`, async () => {
      const t = await newTenant("echoid");
      const secret = digits();
      const echo = echoBase();
      const config = cases(echo, secret).find(([n]) => n === name)![1];
      await putConnector(t, "crm", config);
      const test = await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { callerNumber: "+34911234567" } });
      const r = JSON.parse(await test.text()) as { ok: boolean; maskedCustomerId?: string };
      expect(r.ok).toBe(true);
      expect(r.maskedCustomerId).toBeUndefined();
      await putNode(t, "n", { interaction: "crm_destination", connector: "crm", identifyBy: "caller_number", defaultCountry: "ES" });
      const res = await call("POST", `/v1/tenants/${t.id}/nodes/n/identify`, { token: t.agent, raw: "callerNumber=%2B34911234567", headers: { "content-type": "application/x-www-form-urlencoded" } });
      const text = await res.text();
      expect(text).not.toContain(secret);
      expect(JSON.parse(text)).not.toHaveProperty("idContact");
      expect(await echoCalls(echo)).toBeGreaterThan(0);
      expect(await decisionLog(t)).not.toContain(secret.slice(-4));
    });
  }
});

describe("a rule path reaches exactly what the scrub cleaned", () => {
  it("list indexes spelled with leading zeros (rawHeaders.01) read the same element the scrub cleans", async () => {
    const t = await newTenant("echoidx");
    const echo = echoBase();
    const secret = sec("hdr");
    // Every element of the echoed header list, each index written as "0<n>" (readPath reads it as <n>).
    const paths = Array.from({ length: 40 }, (_, i) => `rawHeaders.0${i}`);
    const config = { kind: "rest", url: `${echo}/rec/{idContact}`, headers: { "X-Api-Key": secret }, rules: paths.map((path) => ({ when: { path, op: "eq", value: "never" }, destination: "1,1" })), default: "true" };
    await putConnector(t, "crm", config);
    const test = await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { idContact: ID } });
    const text = await test.text();
    const r = JSON.parse(text) as { ok: boolean; fields?: Record<string, unknown> };
    expect(r.ok, text).toBe(true);
    // The list was read (the header names show), and the key in it was not.
    expect(Object.values(r.fields ?? {}).map(String).map((v) => v.toLowerCase())).toContain("x-api-key");
    expectNoLeak(text, config);
    // The same paths written plainly are the control: cleaned there too.
    expect(Object.values(r.fields ?? {})).toContain("[redacted]");
  });
});
