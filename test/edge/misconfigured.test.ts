import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.js";
import { call, OPERATOR } from "./helpers.js";

// The worker's own fetch, in workerd, with the test bindings minus (or with a broken) secret.
function appWith(overrides: Record<string, unknown>) {
  const app = createApp();
  const e = { ...env, ...overrides } as unknown as typeof env;
  return (path: string, init: RequestInit = {}) => app.request(`http://edge.test${path}`, init, e);
}

describe("required secrets", () => {
  it("refuses every request but /health with 503 misconfigured naming the missing ENCRYPTION_KEY", async () => {
    const fetch = appWith({ ENCRYPTION_KEY: undefined });
    const tenants = await fetch("/v1/tenants/probe/keys", { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(tenants.status).toBe(503);
    const body = (await tenants.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("ENCRYPTION_KEY");
    expect(body.error.message).not.toContain(OPERATOR);
    const login = await fetch("/ui/login");
    expect(login.status).toBe(503);
    expect((await fetch("/health")).status).toBe(200);
  });

  it("names an invalid key without echoing it, and a missing ADMIN_TOKEN", async () => {
    const bad = "bm90LTMyLWJ5dGVz"; // "not-32-bytes"
    const res = await appWith({ ENCRYPTION_KEY: bad, ADMIN_TOKEN: undefined })("/v1/tenants/probe/keys");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toContain("ENCRYPTION_KEY must be 32");
    expect(text).toContain("ADMIN_TOKEN is not set");
    expect(text).not.toContain(bad);
  });

  it("serves normally with every secret set", async () => {
    const res = await appWith({})("/v1/tenants/probe/keys", { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(res.status).toBe(404);
    expect((await call("GET", "/v1/tenants/probe/keys", { token: OPERATOR })).status).toBe(404);
  });
});
