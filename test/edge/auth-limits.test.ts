import { describe, expect, it } from "vitest";
import { call, callFrom, identify, json, newTenant, OPERATOR, putNode } from "./helpers.js";

type Err = { error: { code: string; message: string } };

/** The same key id with a wrong secret: what a client guessing at that key sends. */
const wrongSecret = (key: string) => key.slice(0, -4) + (key.endsWith("AAAA") ? "BBBB" : "AAAA");
/** A documentation-range IPv6 /64 no other test uses, so its failed-auth budget is its own. */
const freshIp = () => `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::1`;
const form = { "content-type": "application/x-www-form-urlencoded" };

/**
 * Sends failing requests until one is refused with 429 and returns how many 401s came first.
 * The limiter's windows are wall-clock minutes, so a run that straddles one may see more than 30.
 */
async function failuresUntilLimited(send: (i: number) => Promise<Response>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const res = await send(i);
    if (res.status === 429) {
      expect((await json<Err>(res)).error.code).toBe("too_many_failed_auth");
      return i;
    }
    expect(res.status).toBe(401);
  }
  throw new Error("never limited");
}

describe("failed-auth limit (issue 9, finding 3)", () => {
  it("40 bad tokens from one address do not lock out the valid key; the bad client gets 429", async () => {
    const t = await newTenant();
    await putNode(t, "plain", { interaction: "none", expectedLength: 3 });
    const bad = wrongSecret(t.agent);
    expect(await failuresUntilLimited(() => call("GET", `/v1/tenants/${t.id}/nodes`, { token: bad }))).toBeGreaterThanOrEqual(30);
    for (let i = 0; i < 9; i++) await call("GET", `/v1/tenants/${t.id}/nodes`, { token: bad });

    // The bad client stays limited, on identify too, with a clear code and a Retry-After.
    const limited = await identify({ id: t.id, agent: bad }, "plain", "123");
    expect(limited.status).toBe(429);
    expect((await json<Err>(limited)).error.code).toBe("too_many_failed_auth");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);

    // The key those failures named verifies, so the limit never refuses it: header, ?key=, admin paths.
    const ok = await identify(t, "plain", "123");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok", destination: "true" });
    const viaUrl = await call("POST", `/v1/tenants/${t.id}/nodes/plain/identify?key=${t.agent}`, { raw: "idContact=123", headers: form });
    expect(viaUrl.status).toBe(200);
    expect((await call("GET", `/v1/tenants/${t.id}/nodes`, { token: t.agent })).status).toBe(200);
    // Another key's budget is untouched: its first failure is a plain 401.
    expect((await call("GET", `/v1/tenants/${t.id}/nodes`, { token: wrongSecret(t.admin) })).status).toBe(401);
  });

  it("garbage tokens count per (address, no-key): the operator and every key from that address still work", async () => {
    const t = await newTenant();
    const ip = freshIp();
    expect(await failuresUntilLimited((i) => callFrom(ip, "GET", `/v1/tenants/${t.id}/nodes`, { token: `garbage-${i}` }))).toBeGreaterThanOrEqual(30);
    // A wrong operator token is garbage too: same bucket, same 429.
    expect((await callFrom(ip, "PUT", `/v1/tenants/${t.id}`, { token: OPERATOR + "x", body: { name: "x" } })).status).toBe(429);

    expect((await callFrom(ip, "PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "Renamed" } })).status).toBe(200);
    expect((await callFrom(ip, "GET", `/v1/tenants/${t.id}/nodes`, { token: t.agent })).status).toBe(200);
    expect((await callFrom(ip, "GET", `/v1/tenants/${t.id}/nodes`, { token: wrongSecret(t.agent) })).status).toBe(401);
    // The rest of that IPv6 /64 is the same client; another /64 has its own budget.
    expect((await callFrom(ip.replace(/::1$/, "::beef"), "GET", `/v1/tenants/${t.id}/nodes`, { token: "garbage" })).status).toBe(429);
    expect((await callFrom(freshIp(), "GET", `/v1/tenants/${t.id}/nodes`, { token: "garbage" })).status).toBe(401);
  });

  it("locally CF-Connecting-IP is not trusted: a client cannot spread its failures over invented addresses", async () => {
    const t = await newTenant();
    const bad = wrongSecret(t.admin);
    const sent = failuresUntilLimited((i) => call("GET", `/v1/tenants/${t.id}/nodes`, { token: bad, headers: { "cf-connecting-ip": `198.51.100.${i}` } }));
    expect(await sent).toBeLessThan(70);
    expect((await call("GET", `/v1/tenants/${t.id}/nodes`, { token: t.admin })).status).toBe(200);
  });
});

describe("?key= on identify (issue 9, finding 4)", () => {
  it("takes agent keys only: an admin key in the URL is refused with 403 admin_key_in_url, as a header it works", async () => {
    const t = await newTenant();
    await putNode(t, "plain", { interaction: "none", expectedLength: 3 });
    const path = `/v1/tenants/${t.id}/nodes/plain/identify`;
    const viaUrl = await call("POST", `${path}?key=${t.admin}`, { raw: "idContact=123", headers: form });
    expect(viaUrl.status).toBe(403);
    const err = await json<Err>(viaUrl);
    expect(err.error.code).toBe("admin_key_in_url");
    expect(JSON.stringify(err)).not.toContain(t.admin.split("_").at(-1)!);
    expect((await call("POST", path, { token: t.admin, raw: "idContact=123", headers: form })).status).toBe(200);
    expect((await call("POST", `${path}?key=${t.agent}`, { raw: "idContact=123", headers: form })).status).toBe(200);
    // Another tenant's admin key in the URL still learns nothing about this tenant.
    const other = await newTenant();
    expect((await call("POST", `${path}?key=${other.admin}`, { raw: "idContact=123", headers: form })).status).toBe(404);
  });
});
