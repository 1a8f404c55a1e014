import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantHome } from "../../worker/tenant/home.js";
import { call, crmPath, identify, json, newTenant, OPERATOR, putConnector, putNode } from "./helpers.js";

/** The tenant's decisions live in its own Durable Object, not in D1 (docs/scale.md). */
const homeDecisions = (tenant: string) => tenantHome(env, tenant).list({ limit: 1000 });

/** A tenant with a key of each role, a connector with a sealed secret, a node, a cached decision and a logged decision. */
async function busyTenant() {
  const t = await newTenant("del");
  await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true"), auth: { type: "bearer", token: "crm-secret-4f1d" } });
  await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
  const first = await identify(t, "n", "12345");
  expect(first.headers.get("x-cache")).toBe("MISS");
  // Decisions and the KV write happen after the answer: wait until both are there.
  for (let i = 0; i < 100; i++) {
    const logged = await homeDecisions(t.id);
    const kv = await env.CACHE.list({ prefix: `d:${t.id}:` });
    if (logged.length && kv.keys.length) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  expect((await identify(t, "n", "12345")).headers.get("x-cache")).toBe("HIT");
  return t;
}

/** Every user table, from the schema itself: a table added by a later migration is checked too. */
async function rowsMentioning(text: string): Promise<Record<string, number>> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name <> 'd1_migrations'",
  ).all<{ name: string }>();
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["tenants", "api_keys", "connectors", "nodes", "decisions"]));
  const found: Record<string, number> = {};
  for (const { name } of tables) {
    const { results: cols } = await env.DB.prepare(`SELECT name FROM pragma_table_info('${name}')`).all<{ name: string }>();
    const where = cols.map((c) => `instr(CAST("${c.name}" AS TEXT), ?1) > 0`).join(" OR ");
    const n = await env.DB.prepare(`SELECT count(*) AS n FROM "${name}" WHERE ${where}`).bind(text).first<number>("n");
    if (n) found[name] = n;
  }
  return found;
}

describe("operator: list and delete tenants", () => {
  it("GET /v1/tenants lists tenants with name and creation time, for the operator only", async () => {
    const t = await newTenant("list");
    const res = await call("GET", "/v1/tenants", { token: OPERATOR });
    expect(res.status).toBe(200);
    const { tenants } = await json<{ tenants: Array<{ id: string; name: string; createdAt: string }> }>(res);
    const mine = tenants.find((x) => x.id === t.id);
    expect(mine).toEqual({ id: t.id, name: `Tenant ${t.id}`, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    // A tenant key, even an admin one, must not learn which other tenants exist.
    expect((await call("GET", "/v1/tenants", { token: t.admin })).status).toBe(403);
    expect((await call("GET", "/v1/tenants")).status).toBe(401);
  });

  it("DELETE removes every row that mentions the tenant, its cache entries, and its keys stop working", async () => {
    const t = await busyTenant();
    const other = await busyTenant();
    expect(Object.keys(await rowsMentioning(t.id)).sort()).toEqual(["api_keys", "connectors", "nodes", "tenants"]);
    expect((await homeDecisions(t.id)).length).toBeGreaterThanOrEqual(1);

    // Only the operator may delete a tenant, not the tenant's own admin.
    expect((await call("DELETE", `/v1/tenants/${t.id}`, { token: t.admin })).status).toBe(403);

    const res = await call("DELETE", `/v1/tenants/${t.id}`, { token: OPERATOR });
    expect(res.status).toBe(200);
    const body = await json<{ id: string; deleted: Record<string, number>; cacheEntriesDeleted: number }>(res);
    expect(body.deleted).toMatchObject({ tenants: 1, api_keys: 2, connectors: 1, nodes: 1 });
    expect(body.deleted.decisions).toBeGreaterThanOrEqual(1);
    expect(body.cacheEntriesDeleted).toBeGreaterThanOrEqual(1);

    expect(await rowsMentioning(t.id)).toEqual({});
    expect(await homeDecisions(t.id)).toEqual([]);
    expect((await env.CACHE.list({ prefix: `d:${t.id}:` })).keys).toEqual([]);
    expect((await identify(t, "n", "12345")).status).toBe(401);
    expect((await call("GET", `/v1/tenants/${t.id}/connectors`, { token: t.admin })).status).toBe(401);
    expect((await call("DELETE", `/v1/tenants/${t.id}`, { token: OPERATOR })).status).toBe(404);

    // The neighbour is untouched.
    expect(Object.keys(await rowsMentioning(other.id)).length).toBe(4);
    expect((await homeDecisions(other.id)).length).toBeGreaterThanOrEqual(1);
    expect((await identify(other, "n", "12345")).headers.get("x-cache")).toBe("HIT");
  });

  it("a tenant created again under a deleted id starts clean: no decision of its previous life is served", async () => {
    const t = await busyTenant();
    // Leave a cache entry behind as if the best-effort KV cleanup had missed it.
    const stale = (await env.CACHE.list({ prefix: `d:${t.id}:` })).keys.map((k) => k.name);
    const values = await Promise.all(stale.map((k) => env.CACHE.get(k)));
    expect((await call("DELETE", `/v1/tenants/${t.id}`, { token: OPERATOR })).status).toBe(200);
    await Promise.all(stale.map((k, i) => env.CACHE.put(k, values[i]!)));

    expect((await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "again" } })).status).toBe(201);
    const agent = await json<{ key: string }>(await call("POST", `/v1/tenants/${t.id}/keys`, { token: OPERATOR, body: { role: "agent" } }));
    const admin = await json<{ key: string }>(await call("POST", `/v1/tenants/${t.id}/keys`, { token: OPERATOR, body: { role: "admin" } }));
    const again = { id: t.id, admin: admin.key, agent: agent.key };
    await putConnector(again, "crm", { kind: "webhook", url: crmPath("contract", "false") });
    await putNode(again, "n", { interaction: "crm_true_false", connector: "crm" });
    const res = await identify(again, "n", "12345");
    expect(res.headers.get("x-cache")).toBe("MISS");
    expect(await res.json()).toEqual({ status: "ok", destination: "false" });
  });
});

describe("following a call (docs/operations.md)", () => {
  it("keeps the X-Request-Id the agent sends, answers with it, and makes one up for anything else", async () => {
    const t = await newTenant("rid");
    await putNode(t, "n", { interaction: "none" });
    const kept = await identify(t, "n", "12345", { "x-request-id": "1733050000-123" });
    expect(kept.headers.get("x-request-id")).toBe("1733050000-123");
    const made = await identify(t, "n", "12345", { "x-request-id": "1733050000.123" });
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
