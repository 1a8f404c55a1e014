import { afterEach, describe, expect, it, vi } from "vitest";
import { call, crmPath, identify, newTenant, putConnector, putNode } from "./helpers.js";

const SECRET = "sk-live-LOG-LEAK-7c6b5a";
const ID = "5550123456";

/** Every line the worker writes to the console meanwhile, as Workers Logs would receive them. */
function captureConsole() {
  const lines: string[] = [];
  for (const m of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(" ")));
  }
  const events = (event: string, requestId?: string) =>
    lines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === event && (requestId === undefined || l.requestId === requestId));
  return { lines, events };
}

afterEach(() => vi.restoreAllMocks());

describe("edge logs (one JSON line per identify and per admin change)", () => {
  it("an identify writes one line with request id, tenant, node, outcome, reason, cache, ms and the masked id, never the id or a secret", async () => {
    const t = await newTenant("log");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true"), auth: { type: "bearer", token: SECRET } });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    const log = captureConsole();

    const res = await identify(t, "n", ID, { "x-request-id": "call-1733050000-123" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("call-1733050000-123");
    const lines = log.events("identify", "call-1733050000-123");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "info", tenant: t.id, node: "n", outcome: "success", status: "ok", reason: null, cache: "MISS", maskedId: "********56" });
    expect(typeof lines[0]!.ms).toBe("number");

    // The second call is a cache hit, and its own line says so.
    await identify(t, "n", ID, { "x-request-id": "call-2" });
    expect(log.events("identify", "call-2")).toMatchObject([{ outcome: "success", cache: "HIT" }]);

    const all = log.lines.join("\n");
    for (const leak of [ID, SECRET, t.agent, t.admin]) expect(all).not.toContain(leak);
  });

  it("a refused identify is one line too, with the refusal's code", async () => {
    const t = await newTenant("log");
    await putNode(t, "n", { interaction: "none" });
    const log = captureConsole();
    const res = await call("POST", `/v1/tenants/${t.id}/nodes/n/identify`, {
      token: `${t.agent}x`,
      raw: `idContact=${ID}`,
      headers: { "content-type": "application/x-www-form-urlencoded", "x-request-id": "refused-1" },
    });
    expect(res.status).toBe(401);
    expect(log.events("identify", "refused-1")).toMatchObject([{ tenant: t.id, node: "n", outcome: "refused", reason: "unauthorized", maskedId: "" }]);
    expect(log.lines.join("\n")).not.toContain(t.agent);
  });

  it("an admin change writes one line naming the action, the object and who did it, never the secret", async () => {
    const t = await newTenant("log");
    const log = captureConsole();
    const res = await call("PUT", `/v1/tenants/${t.id}/connectors/crm`, {
      token: t.admin,
      headers: { "x-request-id": "admin-1" },
      body: { kind: "webhook", url: crmPath("contract", "true"), auth: { type: "bearer", token: SECRET } },
    });
    expect(res.status).toBe(201);
    const lines = log.events("admin", "admin-1");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ tenant: t.id, action: "connector.put", target: "crm", outcome: "created" });
    expect(lines[0]!.actor).toMatch(/^[a-z2-9]{12}$/);
    await call("DELETE", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin, headers: { "x-request-id": "admin-2" } });
    expect(log.events("admin", "admin-2")).toMatchObject([{ action: "connector.delete", target: "crm", outcome: "deleted" }]);
    const all = log.lines.join("\n");
    for (const leak of [SECRET, t.admin]) expect(all).not.toContain(leak);
  });
});
