import { describe, expect, it } from "vitest";
import { call, callFrom, crmPath, newTenant, OPERATOR, putConnector, putNode } from "./helpers.js";

type Endpoint = { method: string; path: string; body?: unknown; raw?: string; agentOk: boolean };

/** Every tenant-scoped endpoint of SPEC 3, against tenant B. */
function endpoints(b: string, keyId: string): Endpoint[] {
  const node = { name: "n", interaction: "none", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } };
  return [
    { method: "POST", path: `/v1/tenants/${b}/keys`, body: { role: "agent" }, agentOk: false },
    { method: "GET", path: `/v1/tenants/${b}/keys`, agentOk: false },
    { method: "DELETE", path: `/v1/tenants/${b}/keys/${keyId}`, agentOk: false },
    { method: "PUT", path: `/v1/tenants/${b}/connectors/crm`, body: { kind: "webhook", url: "https://crm.example.com/x" }, agentOk: false },
    { method: "GET", path: `/v1/tenants/${b}/connectors`, agentOk: false },
    { method: "GET", path: `/v1/tenants/${b}/connectors/crm`, agentOk: false },
    { method: "DELETE", path: `/v1/tenants/${b}/connectors/other`, agentOk: false },
    { method: "POST", path: `/v1/tenants/${b}/connectors/crm/test`, body: { idContact: "1" }, agentOk: false },
    { method: "PUT", path: `/v1/tenants/${b}/nodes/n2`, body: node, agentOk: false },
    { method: "GET", path: `/v1/tenants/${b}/nodes`, agentOk: true },
    { method: "GET", path: `/v1/tenants/${b}/nodes/n`, agentOk: true },
    { method: "DELETE", path: `/v1/tenants/${b}/nodes/gone`, agentOk: false },
    { method: "POST", path: `/v1/tenants/${b}/nodes/n/identify`, raw: "idContact=12345", agentOk: true },
    { method: "DELETE", path: `/v1/tenants/${b}/cache`, agentOk: false },
    { method: "GET", path: `/v1/tenants/${b}/decisions`, agentOk: false },
  ];
}

describe("tenant isolation matrix (every endpoint × every kind of wrong caller)", () => {
  it("answers the expected status every time, and B's data is untouched", async () => {
    const a = await newTenant("a");
    const b = await newTenant("b");
    await putConnector(b, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(b, "n", { interaction: "crm_true_false", connector: "crm" });
    const revoked = await (await call("POST", `/v1/tenants/${b.id}/keys`, { token: OPERATOR, body: { role: "admin" } })).json<{ id: string; key: string }>();
    await call("DELETE", `/v1/tenants/${b.id}/keys/${revoked.id}`, { token: OPERATOR });

    const callers: Array<[string, string | undefined, (e: Endpoint) => number]> = [
      ["no key", undefined, () => 401],
      ["wrong key", "cbk_aaaaaaaaaaaa_" + "A".repeat(43), () => 401],
      ["garbage token", "Bearer-ish nonsense", () => 401],
      ["revoked key", revoked.key, () => 401],
      ["other tenant's admin", a.admin, () => 404],
      ["other tenant's agent", a.agent, () => 404],
      ["agent key on admin endpoints", b.agent, (e) => (e.agentOk ? 200 : 403)],
    ];
    let ip = 0;
    for (const [who, token, want] of callers) {
      for (const e of endpoints(b.id, b.agentId)) {
        // A fresh client address per request keeps the failed-auth limiter out of this test.
        const headers: Record<string, string> = {};
        if (e.raw) headers["content-type"] = "application/x-www-form-urlencoded";
        const res = await callFrom(`198.51.100.${ip++ % 250}`, e.method, e.path, { token, headers, ...(e.body ? { body: e.body } : {}), ...(e.raw ? { raw: e.raw } : {}) });
        expect(res.status, `${who}: ${e.method} ${e.path}`).toBe(want(e));
        if (res.status >= 400) expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^[a-z_]+$/);
      }
    }
    // Nothing of B changed: its node, connector and agent key are as they were.
    expect((await call("GET", `/v1/tenants/${b.id}/nodes/n`, { token: b.agent })).status).toBe(200);
    expect((await call("GET", `/v1/tenants/${b.id}/connectors/crm`, { token: b.admin })).status).toBe(200);
    expect((await call("GET", `/v1/tenants/${b.id}/nodes/n2`, { token: b.admin })).status).toBe(404);
  });
});
