import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../worker/env.js";
import worker from "../../worker/index.js";
import { newTenant, OPERATOR } from "./helpers.js";

// Key A is the test runtime's ENCRYPTION_KEY; B is another 32-byte key.
const A = env.ENCRYPTION_KEY!;
const B = btoa(String.fromCharCode(...new Uint8Array(32).fill(0x5b)));

type Secrets = Partial<Pick<Env, "ENCRYPTION_KEY" | "ENCRYPTION_KEY_PREVIOUS" | "ADMIN_TOKEN" | "ADMIN_TOKEN_PREVIOUS">>;

/** The deployed worker (LOCAL_MODE off) from client address `ip`, with other secrets, as after `wrangler secret bulk`. */
async function under(secrets: Secrets, ip: string, method: string, path: string, init: { token?: string; cookie?: string; form?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "cf-connecting-ip": ip };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.cookie) headers.cookie = init.cookie;
  let body: string | undefined;
  if (init.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form).toString();
  }
  const e: Env = { ...env, LOCAL_MODE: "false" };
  delete e.ENCRYPTION_KEY_PREVIOUS;
  delete e.ADMIN_TOKEN_PREVIOUS;
  Object.assign(e, secrets);
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://edge.test${path}`, { method, headers, body, redirect: "manual" }), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A documentation-range IPv6 /64 no other test uses, so its failed-auth budget is its own. */
const freshIp = () => `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::1`;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

describe("ENCRYPTION_KEY rotation and the admin pages' sessions", () => {
  it("a session started under the old key survives step 1 (CSRF included) and ends when the previous key is dropped", async () => {
    const t = await newTenant("rot");
    const ip = freshIp();
    const onlyA = { ENCRYPTION_KEY: A };
    const rotating = { ENCRYPTION_KEY: B, ENCRYPTION_KEY_PREVIOUS: A };
    const onlyB = { ENCRYPTION_KEY: B };

    const loginPage = await under(onlyA, ip, "GET", "/ui/login");
    const preCookie = loginPage.headers.getAll("set-cookie").map((c) => c.split(";")[0]).join("; ");
    const login = await under(onlyA, ip, "POST", "/ui/login", { cookie: preCookie, form: { _csrf: csrfOf(await loginPage.text()), key: t.admin } });
    expect(login.status).toBe(303);
    const cookie = login.headers.getAll("set-cookie").find((c) => c.startsWith("cb_session="))!.split(";")[0]!;

    // Step 1: the new key is current, the old one previous. The admin is still signed in.
    const page = await under(rotating, ip, "GET", "/ui/connectors/new", { cookie });
    expect(page.status).toBe(200);
    const csrf = csrfOf(await page.text());
    expect(csrf).not.toBe("");
    // A form posted with that session's CSRF token is accepted, not refused as a forged one.
    const saved = await under(rotating, ip, "POST", "/ui/keys/time-zone", { cookie, form: { _csrf: csrf, timeZone: "Europe/Madrid" } });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/ui/keys?saved=time-zone");

    // New sessions are sealed under the new key: they work once the previous key is gone.
    const fresh = await under(rotating, ip, "GET", "/ui/login");
    const freshPre = fresh.headers.getAll("set-cookie").map((c) => c.split(";")[0]).join("; ");
    const relogin = await under(rotating, ip, "POST", "/ui/login", { cookie: freshPre, form: { _csrf: csrfOf(await fresh.text()), key: t.admin } });
    const newCookie = relogin.headers.getAll("set-cookie").find((c) => c.startsWith("cb_session="))!.split(";")[0]!;

    // Step 3: the previous key dropped. The old session ends (back to the login page); the new one goes on.
    const after = await under(onlyB, ip, "GET", "/ui/connectors", { cookie });
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toContain("/ui/login");
    expect((await under(onlyB, ip, "GET", "/ui/connectors", { cookie: newCookie })).status).toBe(200);
  });
});

describe("ADMIN_TOKEN rotation with ADMIN_TOKEN_PREVIOUS", () => {
  const NEW = "new-operator-token-9876543210";

  it("during the rotation the new and the previous token both work; after it only the new one", async () => {
    const ip = freshIp();
    const rotating = { ADMIN_TOKEN: NEW, ADMIN_TOKEN_PREVIOUS: OPERATOR };
    expect((await under(rotating, ip, "GET", "/v1/tenants", { token: NEW })).status).toBe(200);
    expect((await under(rotating, ip, "GET", "/v1/tenants", { token: OPERATOR })).status).toBe(200);
    expect((await under(rotating, ip, "GET", "/v1/tenants", { token: OPERATOR + "x" })).status).toBe(401);

    const done = { ADMIN_TOKEN: NEW };
    expect((await under(done, ip, "GET", "/v1/tenants", { token: NEW })).status).toBe(200);
    expect((await under(done, ip, "GET", "/v1/tenants", { token: OPERATOR })).status).toBe(401);
  });

  it("the failed-auth throttle still counts wrong operator tokens while two are accepted", async () => {
    const ip = freshIp();
    const rotating = { ADMIN_TOKEN: NEW, ADMIN_TOKEN_PREVIOUS: OPERATOR };
    let refused = 0;
    for (; refused < 100; refused++) {
      const res = await under(rotating, ip, "GET", "/v1/tenants", { token: `guess-${refused}` });
      if (res.status === 429) break;
      expect(res.status).toBe(401);
    }
    expect(refused).toBeGreaterThanOrEqual(30);
    expect(refused).toBeLessThan(100);
    // Both real tokens still get in from that address.
    expect((await under(rotating, ip, "GET", "/v1/tenants", { token: NEW })).status).toBe(200);
    expect((await under(rotating, ip, "GET", "/v1/tenants", { token: OPERATOR })).status).toBe(200);
  });

  it("an empty ADMIN_TOKEN_PREVIOUS is named at start-up instead of silently accepted", async () => {
    const res = await under({ ADMIN_TOKEN_PREVIOUS: "" }, freshIp(), "GET", "/v1/tenants", { token: OPERATOR });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("ADMIN_TOKEN_PREVIOUS");
  });
});
