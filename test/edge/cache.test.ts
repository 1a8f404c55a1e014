import { describe, expect, it } from "vitest";
import { call, crmCalls, crmPath, identify, newTenant, putConnector, putNode } from "./helpers.js";

const policy = (p: Partial<{ ttlSeconds: number; negativeTtlSeconds: number; staleIfErrorSeconds: number }>) => ({
  ttlSeconds: 60,
  negativeTtlSeconds: 10,
  staleIfErrorSeconds: 300,
  ...p,
});

async function setup(url: string, cache = policy({}), kind: "webhook" | "rest" = "webhook") {
  const t = await newTenant();
  const config =
    kind === "webhook"
      ? { kind, url, timeoutMs: 300, cache }
      : { kind, url, timeoutMs: 300, cache, recordPath: "data.customer", rules: [{ when: { path: "plan", op: "eq", value: "gold" }, destination: "1,3" }], default: "1,4", notFound: "false" };
  await putConnector(t, "crm", config);
  await putNode(t, "n", { interaction: "crm_destination", connector: "crm" });
  return t;
}

describe("decision cache (SPEC 5)", () => {
  it("MISS then HIT without calling the CRM again", async () => {
    const url = crmPath("contract", "dest-3-5");
    const t = await setup(url);
    const a = await identify(t, "n", "555");
    expect(a.headers.get("x-cache")).toBe("MISS");
    const b = await identify(t, "n", "555");
    expect(b.headers.get("x-cache")).toBe("HIT");
    expect(await b.json()).toEqual({ status: "ok", destination: "3,5" });
    expect((await crmCalls(url)).count).toBe(1);
    // Another id is another entry.
    expect((await identify(t, "n", "556")).headers.get("x-cache")).toBe("MISS");
    expect((await crmCalls(url)).count).toBe(2);
  });

  it("STALE on a CRM that starts failing, MISS+fail once the stale window is over", async () => {
    const url = crmPath("contract", "by-id");
    const t = await setup(url, policy({ ttlSeconds: 0, staleIfErrorSeconds: 300 }), "webhook");
    expect(await (await identify(t, "n", "1237")).json()).toEqual({ status: "ok", destination: "3,7" });
    // The entry is expired (ttl 0); a 1 ms budget makes the refresh fail, so the stale copy answers.
    const res = await identify(t, "n", "1237", { "x-deadline-ms": "1" });
    expect(res.headers.get("x-cache")).toBe("STALE");
    expect(res.headers.get("x-bridge-reason")).toBeNull();
    expect(await res.json()).toEqual({ status: "ok", destination: "3,7" });
    const noStale = await setup(crmPath("contract", "by-id"), policy({ ttlSeconds: 0, staleIfErrorSeconds: 0 }));
    await identify(noStale, "n", "1237");
    const failed = await identify(noStale, "n", "1237", { "x-deadline-ms": "1" });
    expect(await failed.json()).toEqual({ status: "fail", destination: "false" });
    expect(failed.headers.get("x-bridge-reason")).toBe("crm_timeout");
  });

  it("negative caching: notFound is cached for negativeTtlSeconds", async () => {
    const url = crmPath("rest", "notfound") + "/{idContact}";
    const t = await setup(url, policy({ negativeTtlSeconds: 30 }), "rest");
    const a = await identify(t, "n", "42");
    expect(await a.json()).toEqual({ status: "ok", destination: "false" });
    const b = await identify(t, "n", "42");
    expect(b.headers.get("x-cache")).toBe("HIT");
    expect((await crmCalls(url.replace("{idContact}", "42"))).count).toBe(1);
    const zero = await setup(crmPath("rest", "notfound") + "/{idContact}", policy({ negativeTtlSeconds: 0 }), "rest");
    await identify(zero, "n", "42");
    expect((await identify(zero, "n", "42")).headers.get("x-cache")).toBe("MISS");
  });

  it("purge: the whole tenant, one connector, or one id, effective for the next identify", async () => {
    const url = crmPath("contract", "true");
    const t = await setup(url);
    await identify(t, "n", "1");
    await identify(t, "n", "2");
    expect((await identify(t, "n", "1")).headers.get("x-cache")).toBe("HIT");

    const one = await call("DELETE", `/v1/tenants/${t.id}/cache?connector=crm&idContact=1`, { token: t.admin });
    expect(await one.json()).toEqual({ purged: "id" });
    expect((await identify(t, "n", "1")).headers.get("x-cache")).toBe("MISS");
    expect((await identify(t, "n", "2")).headers.get("x-cache")).toBe("HIT");

    expect(await (await call("DELETE", `/v1/tenants/${t.id}/cache?connector=crm`, { token: t.admin })).json()).toEqual({ purged: "connector" });
    expect((await identify(t, "n", "2")).headers.get("x-cache")).toBe("MISS");

    expect(await (await call("DELETE", `/v1/tenants/${t.id}/cache`, { token: t.admin })).json()).toEqual({ purged: "tenant" });
    expect((await identify(t, "n", "1")).headers.get("x-cache")).toBe("MISS");
    expect((await identify(t, "n", "1")).headers.get("x-cache")).toBe("HIT");

    expect((await call("DELETE", `/v1/tenants/${t.id}/cache?connector=ghost`, { token: t.admin })).status).toBe(404);
    expect((await call("DELETE", `/v1/tenants/${t.id}/cache?idContact=abc`, { token: t.admin })).status).toBe(400);
  });

  it("single-flight: concurrent misses for one key make one CRM call", async () => {
    const url = crmPath("contract", "slow-150-true");
    const t = await setup(url);
    const answers = await Promise.all(Array.from({ length: 12 }, () => identify(t, "n", "999")));
    for (const a of answers) expect(await a.json()).toEqual({ status: "ok", destination: "true" });
    expect((await crmCalls(url)).count).toBe(1);
  });

  it("changing a connector never serves a decision of its old mapping", async () => {
    const t = await setup(crmPath("contract", "dest-3-5"));
    await identify(t, "n", "5");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "dest-4-6") });
    expect(await (await identify(t, "n", "5")).json()).toEqual({ status: "ok", destination: "4,6" });
  });

  it("the tenant is part of every key: same connector name and id in two tenants, different CRMs", async () => {
    const a = await setup(crmPath("contract", "dest-3-1"));
    const b = await setup(crmPath("contract", "dest-3-2"));
    expect(await (await identify(a, "n", "100")).json()).toEqual({ status: "ok", destination: "3,1" });
    const fromB = await identify(b, "n", "100");
    expect(fromB.headers.get("x-cache")).toBe("MISS");
    expect(await fromB.json()).toEqual({ status: "ok", destination: "3,2" });
  });
});

describe("deadlines (SPEC 5)", () => {
  it("X-Deadline-Ms cuts a hanging CRM short and answers before the deadline", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "hang"), timeoutMs: 5000 });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    const started = Date.now();
    const res = await identify(t, "n", "123", { "x-deadline-ms": "400" });
    const took = Date.now() - started;
    expect(await res.json()).toEqual({ status: "fail", destination: "false" });
    expect(res.headers.get("x-bridge-reason")).toBe("crm_timeout");
    expect(took).toBeLessThan(400);
  });

  it("without a deadline the connector's timeoutMs bounds the call", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "hang"), timeoutMs: 200 });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    const started = Date.now();
    const res = await identify(t, "n", "123");
    expect(res.headers.get("x-bridge-reason")).toBe("crm_timeout");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("a nonsense X-Deadline-Ms is ignored rather than trusted", async () => {
    const t = await setup(crmPath("contract", "true"));
    for (const v of ["-5", "abc", "1e9", ""]) expect(await (await identify(t, "n", "1", { "x-deadline-ms": v })).json()).toEqual({ status: "ok", destination: "true" });
  });
});
