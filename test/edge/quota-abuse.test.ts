import { abortAllDurableObjects } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CircuitEnv } from "../../worker/circuit/client.js";
import { forgetLocalQuota, pause } from "../../worker/quota/client.js";
import { formValues } from "./form-values.js";
import { call, crmCalls, crmPath, identify, json, newTenant, putConnector, putNode } from "./helpers.js";

/**
 * Issue 11's guard tried as a careless, hostile or busy tenant would: what it must refuse, whom
 * it must not touch, and what a hostile CRM's headers can do to it.
 */
const noCache = { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 };
type Usage = { pausedUntil: string | null; last429: { retryAfterSeconds: number } | null; shedLastHour: number; inWindow: number };
const usageOf = async (t: { id: string; admin: string }, c: string) => json<Usage>(await call("GET", `/v1/tenants/${t.id}/connectors/${c}/usage`, { token: t.admin }));

describe("quota: config abuse", () => {
  it("every quota the guard could not honour is a 400 naming the field; nothing is stored", async () => {
    const t = await newTenant();
    const base = { kind: "webhook", url: "https://crm.example/x" };
    const bad: [string, unknown][] = [
      ["perSeconds", { requests: 5, perSeconds: 0 }],
      ["perSeconds", { requests: 5, perSeconds: 1e9 }],
      ["perSeconds", { requests: 5, perSeconds: 1.5 }],
      ["requests", { requests: 0, perSeconds: 1 }],
      ["requests", { requests: 1e12, perSeconds: 1 }],
      ["requests", { requests: -4, perSeconds: 1 }],
      ["requests", { requests: "5", perSeconds: 1 }],
      ["daily", { requests: 5, perSeconds: 1, daily: 0 }],
      ["concurrency", { requests: 5, perSeconds: 1, concurrency: 0 }],
      ["quota", { requests: 5, perSeconds: 1, burst: 10 }],
      ["quota", null],
    ];
    for (const [field, quota] of bad) {
      const res = await call("PUT", `/v1/tenants/${t.id}/connectors/c`, { token: t.admin, body: { ...base, quota } });
      expect([JSON.stringify(quota), res.status]).toEqual([JSON.stringify(quota), 400]);
      const body = await json<{ error: { code: string; message: string } }>(res);
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.message).toContain(field);
    }
    // 1e999 is Infinity to JSON.parse: refused as not an integer, never stored as a quota.
    const inf = await call("PUT", `/v1/tenants/${t.id}/connectors/c`, { token: t.admin, headers: { "content-type": "application/json" }, raw: '{"kind":"webhook","url":"https://crm.example/x","quota":{"requests":1e999,"perSeconds":1}}' });
    expect(inf.status).toBe(400);
    expect((await call("GET", `/v1/tenants/${t.id}/connectors/c`, { token: t.admin })).status).toBe(404);
  });
});

describe("quota: isolation between tenants", () => {
  it("one connector id in two tenants: separate budgets, separate pauses, and no reading the other's usage", async () => {
    const a = await newTenant();
    const b = await newTenant();
    // Tenant a's CRM answers 429 asking for 30 s; tenant b's, under the same connector id, is fine.
    await putConnector(a, "crm", { kind: "webhook", url: crmPath("contract", "http-429-retry-30"), cache: noCache, quota: { requests: 1, perSeconds: 60 } });
    const bUrl = `${crmPath("rest", "found")}/{idContact}`;
    await putConnector(b, "crm", { kind: "rest", url: bUrl, recordPath: "data.customer", cache: noCache, quota: { requests: 1, perSeconds: 60 }, rules: [], default: "true", notFound: "false" });
    await putNode(a, "n", { interaction: "crm_true_false", connector: "crm" });
    await putNode(b, "n", { interaction: "crm_true_false", connector: "crm" });
    expect((await identify(a, "n", "3001")).headers.get("x-bridge-reason")).toBe("crm_rate_limited");
    await new Promise((r) => setTimeout(r, 50));
    forgetLocalQuota();
    // a spent its one call a minute and is paused; b's own one call still goes through.
    expect(await (await identify(b, "n", "3002")).json()).toEqual({ status: "ok", destination: "true" });
    expect((await crmCalls(bUrl.replace("{idContact}", "3002"))).count).toBe(1);
    const ua = await usageOf(a, "crm");
    const ub = await usageOf(b, "crm");
    expect(ua.last429?.retryAfterSeconds).toBe(30);
    expect(ub).toMatchObject({ pausedUntil: null, last429: null, inWindow: 1 });
    // a's admin key on b's path: refused, with nothing of b's in the answer.
    for (const path of [`/v1/tenants/${b.id}/connectors/crm/usage`, `/v1/tenants/${b.id}/connectors/crm/test`]) {
      const res = await call(path.endsWith("test") ? "POST" : "GET", path, { token: a.admin, body: path.endsWith("test") ? { idContact: "3003" } : undefined });
      expect([401, 403, 404]).toContain(res.status);
      expect(await res.text()).not.toMatch(/inWindow|shedLastHour|pausedUntil/);
    }
    expect((await crmCalls(bUrl.replace("{idContact}", "3003"))).count).toBe(0);
  });
});

describe("quota: a hostile CRM's headers", () => {
  it("Retry-After of 10^9 seconds pauses the connector 10 min at most, and usage says so", async () => {
    const t = await newTenant();
    const url = crmPath("contract", "http-429-retry-999999999");
    await putConnector(t, "crm", { kind: "webhook", url, cache: noCache });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    const before = Date.now();
    expect((await identify(t, "n", "4001")).headers.get("x-bridge-reason")).toBe("crm_rate_limited");
    await new Promise((r) => setTimeout(r, 50));
    const u = await usageOf(t, "crm");
    expect(u.last429?.retryAfterSeconds).toBe(600);
    expect(Date.parse(u.pausedUntil ?? "")).toBeLessThanOrEqual(before + 600_000 + 5_000);
  });
});

describe("quota: cache hits while the connector is paused", () => {
  it("answer HIT without touching the guard: no wait, nothing shed; a miss is shed", async () => {
    const t = await newTenant();
    const url = `${crmPath("rest", "found")}/{idContact}`;
    await putConnector(t, "crm", { kind: "rest", url, recordPath: "data.customer", cache: { ttlSeconds: 300, negativeTtlSeconds: 300, staleIfErrorSeconds: 0 }, rules: [], default: "true", notFound: "false" });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    expect((await identify(t, "n", "6001")).headers.get("x-cache")).toBe("MISS");
    // As a 429 with Retry-After: 60 seen by any isolate would.
    const deferred: Promise<unknown>[] = [];
    pause(env as unknown as CircuitEnv, t.id, "crm", 60_000, (p) => void deferred.push(p), true);
    await Promise.allSettled(deferred);
    for (let i = 0; i < 3; i++) {
      const hit = await identify(t, "n", "6001", { "x-deadline-ms": "300" });
      expect(hit.headers.get("x-cache")).toBe("HIT");
      expect(hit.headers.get("server-timing")).toContain("quota;dur=0");
    }
    expect((await identify(t, "n", "6002", { "x-deadline-ms": "300" })).headers.get("x-bridge-reason")).toBe("crm_quota");
    await new Promise((r) => setTimeout(r, 1300));
    // Only the miss was shed (the 1 s window of the first call has passed).
    expect((await usageOf(t, "crm")).shedLastHour).toBe(1);
  });
});

describe("quota: usage after the guard's object restarts", () => {
  it("calls shed in the last hour are still counted", async () => {
    const t = await newTenant();
    const url = `${crmPath("rest", "found")}/{idContact}`;
    await putConnector(t, "crm", { kind: "rest", url, recordPath: "data.customer", quota: { requests: 1, perSeconds: 60 }, cache: noCache, rules: [], default: "true", notFound: "false" });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    expect(await (await identify(t, "n", "5001")).json()).toEqual({ status: "ok", destination: "true" });
    for (const id of ["5002", "5003", "5004"]) expect((await identify(t, "n", id, { "x-deadline-ms": "300" })).headers.get("x-bridge-reason")).toBe("crm_quota");
    // Shed counts reach the object within a second.
    await new Promise((r) => setTimeout(r, 1300));
    expect((await usageOf(t, "crm")).shedLastHour).toBe(3);
    await abortAllDurableObjects();
    forgetLocalQuota();
    expect(await usageOf(t, "crm")).toMatchObject({ shedLastHour: 3, inWindow: 1 });
  });
});

describe("quota: config abuse through the admin pages", () => {
  it("a quota typed wrong re-shows the form with the field's error in the page's language, and saves nothing", async () => {
    const t = await newTenant();
    const cases: [string, string, Record<"en" | "es", string>][] = [
      ["quota.requests", "0", { en: "At least 1.", es: "Como mínimo 1." }],
      ["quota.perSeconds", "1.5", { en: "Enter a whole number.", es: "Escriba un número entero." }],
      ["quota.requests", "1e999", { en: "Enter a number.", es: "Escriba un número." }],
      ["quota.daily", "abc", { en: "Enter a number.", es: "Escriba un número." }],
    ];
    for (const lang of ["en", "es"] as const) {
      for (const [field, value, message] of cases) {
        const page = await adminForm(t.admin, lang, { kind: "webhook", url: "https://crm.example/x", id: "c", "quota.requests": "5", "quota.perSeconds": "1", [field]: value });
        expect([lang, field, value, page.status]).toEqual([lang, field, value, 400]);
        // One error on the page, the field's, in the page's language.
        expect([...page.html.matchAll(/class="error"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual([message[lang]]);
      }
    }
    expect((await call("GET", `/v1/tenants/${t.id}/connectors/c`, { token: t.admin })).status).toBe(404);
  });
});

/** Signs in (cookies and CSRF by hand) and posts the new-connector form as typed. */
async function adminForm(key: string, lang: string, typed: Record<string, string>): Promise<{ status: number; html: string }> {
  const worker = (exports as unknown as { default: Fetcher }).default;
  const cookies = new Map<string, string>();
  const send = async (method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { "accept-language": lang };
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await worker.fetch(`http://edge.test${path}`, { method, redirect: "manual", headers, ...(form ? { body: new URLSearchParams(form).toString() } : {}) });
    for (const sc of res.headers.getAll("set-cookie")) {
      const [pair] = sc.split(";");
      const eq = pair!.indexOf("=");
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  };
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const login = await (await send("GET", "/ui/login")).text();
  await send("POST", "/ui/login", { _csrf: csrfOf(login), key });
  const form = await (await send("GET", `/ui/connectors/new?kind=${typed.kind}`)).text();
  const res = await send("POST", "/ui/connectors/new", { ...formValues(form, "/ui/connectors/new"), _csrf: csrfOf(form), ...typed });
  return { status: res.status, html: await res.text() };
}
