import { describe, expect, it } from "vitest";
import { call, callFrom, crmPath, json, newTenant, OPERATOR, putConnector, putNode } from "./helpers.js";

type Err = { error: { code: string; message: string } };

describe("auth (SPEC 3)", () => {
  it("needs a key: none, malformed and unknown keys get 401 JSON errors with a request id", async () => {
    const t = await newTenant();
    // From an address of its own: locally every client shares one failed-auth budget per key id, and other files spend it.
    const ip = `2001:db8:a:${Math.floor(Math.random() * 0xffff).toString(16)}::1`;
    for (const token of [undefined, "nope", "cbk_aaaaaaaaaaaa_" + "x".repeat(43), OPERATOR + "x"]) {
      const res = await callFrom(ip, "GET", `/v1/tenants/${t.id}/nodes`, { token });
      expect(res.status).toBe(401);
      expect((await json<Err>(res)).error.code).toBe("unauthorized");
      expect(res.headers.get("x-request-id")).toBeTruthy();
    }
    const wrongSecret = t.admin.slice(0, -4) + (t.admin.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect((await call("GET", `/v1/tenants/${t.id}/nodes`, { token: wrongSecret })).status).toBe(401);
  });

  it("operator creates tenants and keys, but does not run a tenant's CRM config", async () => {
    const t = await newTenant();
    expect((await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "Renamed" } })).status).toBe(200);
    expect((await call("PUT", `/v1/tenants/${t.id}`, { token: t.admin, body: { name: "x" } })).status).toBe(403);
    expect((await call("GET", `/v1/tenants/${t.id}/connectors`, { token: OPERATOR })).status).toBe(403);
    expect((await call("PUT", `/v1/tenants/Bad_Id`, { token: OPERATOR, body: { name: "x" } })).status).toBe(400);
    expect((await call("POST", `/v1/tenants/no-such-tenant/keys`, { token: OPERATOR, body: { role: "agent" } })).status).toBe(404);
  });

  it("an admin key issues and revokes keys of its tenant; a revoked key fails at once", async () => {
    const t = await newTenant();
    const created = await call("POST", `/v1/tenants/${t.id}/keys`, { token: t.admin, body: { role: "agent" } });
    expect(created.status).toBe(201);
    const k = await json<{ id: string; key: string; role: string }>(created);
    expect(k.role).toBe("agent");
    expect((await call("GET", `/v1/tenants/${t.id}/nodes`, { token: k.key })).status).toBe(200);
    expect((await call("DELETE", `/v1/tenants/${t.id}/keys/${k.id}`, { token: t.admin })).status).toBe(204);
    expect((await call("GET", `/v1/tenants/${t.id}/nodes`, { token: k.key })).status).toBe(401);
    expect((await call("DELETE", `/v1/tenants/${t.id}/keys/${k.id}`, { token: t.admin })).status).toBe(404);
    const list = await json<{ keys: Array<{ id: string; revokedAt: string | null }> }>(await call("GET", `/v1/tenants/${t.id}/keys`, { token: t.admin }));
    expect(list.keys.find((x) => x.id === k.id)?.revokedAt).toBeTruthy();
    expect(JSON.stringify(list)).not.toContain(k.key.slice(18));
  });

  it("an agent key reads nodes and identifies, and gets 403 on admin paths", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    expect((await call("GET", `/v1/tenants/${t.id}/nodes/n`, { token: t.agent })).status).toBe(200);
    for (const [m, p] of [
      ["GET", "connectors"],
      ["GET", "connectors/crm"],
      ["DELETE", "connectors/crm"],
      ["PUT", "nodes/n"],
      ["DELETE", "nodes/n"],
      ["DELETE", "cache"],
      ["GET", "decisions"],
      ["POST", "keys"],
    ] as const) {
      const res = await call(m, `/v1/tenants/${t.id}/${p}`, { token: t.agent, ...(m === "PUT" || m === "POST" ? { body: {} } : {}) });
      expect(res.status, `${m} ${p}`).toBe(403);
    }
  });

  it("a key of tenant A gets 404 for every path of tenant B, existing or not", async () => {
    const a = await newTenant("a");
    const b = await newTenant("b");
    await putConnector(b, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(b, "n", { interaction: "crm_true_false", connector: "crm" });
    for (const token of [a.admin, a.agent]) {
      for (const [m, p] of [
        ["GET", "nodes"],
        ["GET", "nodes/n"],
        ["GET", "connectors/crm"],
        ["DELETE", "keys/" + b.agentId],
        ["POST", "nodes/n/identify"],
        ["GET", "decisions"],
      ] as const) {
        const res = await call(m, `/v1/tenants/${b.id}/${p}`, { token, ...(m === "POST" ? { body: { idContact: "123" } } : {}) });
        expect(res.status, `${m} ${p}`).toBe(404);
      }
      // Same answer for a tenant that does not exist at all: nothing tells the two apart.
      expect((await call("GET", `/v1/tenants/zz-no-such/nodes`, { token })).status).toBe(404);
    }
    // B's key still works: A's attempts changed nothing.
    expect((await call("GET", `/v1/tenants/${b.id}/nodes/n`, { token: b.agent })).status).toBe(200);
  });

  it("?key= is accepted on identify only", async () => {
    const t = await newTenant();
    await putNode(t, "plain", { interaction: "none", expectedLength: 3 });
    const ok = await call("POST", `/v1/tenants/${t.id}/nodes/plain/identify?key=${t.agent}`, {
      raw: "idContact=123",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok", destination: "true" });
    expect((await call("GET", `/v1/tenants/${t.id}/nodes?key=${t.agent}`)).status).toBe(401);
  });
});
