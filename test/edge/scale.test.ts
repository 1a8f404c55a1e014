import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index.js";
import { RECHECK_MS } from "../../worker/store/nodes.js";
import { tenantHome } from "../../worker/tenant/home.js";
import { call, newTenant, OPERATOR, putNode } from "./helpers.js";

/** env.DB behind a proxy that counts every method called on it (prepare, batch, exec…). */
function countingDb(db: D1Database) {
  const counter = { n: 0 };
  const proxy = new Proxy(db, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        counter.n++;
        return Reflect.apply(v, target, args) as unknown;
      };
    },
  });
  return { db: proxy, counter };
}

/** Identify through this isolate's worker module (its copies are the ones under test), waiting for waitUntil work too. */
async function ask(t: { id: string; agent: string }, node: string, idContact: string, db?: D1Database) {
  const ctx = createExecutionContext();
  const req = new Request(`http://edge.test/v1/tenants/${t.id}/nodes/${node}/identify`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.agent}`, "content-type": "application/x-www-form-urlencoded" },
    body: `idContact=${idContact}`,
  });
  const res = await worker.fetch(req, db ? { ...env, DB: db } : env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds; returns how long after `since` it first did. */
async function within(since: number, limitMs: number, done: () => Promise<boolean>): Promise<number> {
  while (Date.now() - since < limitMs) {
    if (await done()) return Date.now() - since;
    await sleep(50);
  }
  throw new Error(`not seen within ${limitMs} ms`);
}

describe("config on the hot path (docs/scale.md)", () => {
  it("in steady state an identify makes no D1 query, also after the 1 s re-check and with the decision log flushed", async () => {
    const t = await newTenant("steady");
    await putNode(t, "n", { interaction: "none" });
    expect(await (await ask(t, "n", "12345")).json()).toEqual({ status: "ok", destination: "true" });
    await sleep(RECHECK_MS + 100);

    const { db, counter } = countingDb(env.DB);
    for (let i = 0; i < 5; i++) expect(await (await ask(t, "n", `1234${i}`, db)).json()).toEqual({ status: "ok", destination: "true" });
    await sleep(RECHECK_MS + 100);
    for (let i = 0; i < 5; i++) expect((await ask(t, "n", `5678${i}`, db)).status).toBe(200);
    expect(counter.n).toBe(0);
    // …and the calls were logged all the same, in the tenant's own object.
    expect((await tenantHome(env, t.id).list({ limit: 100 })).length).toBeGreaterThanOrEqual(10);
  });

  it("a change written by another isolate (D1 row + version bump) is seen within the re-check window: node update, key revoke", async () => {
    const t = await newTenant("change");
    await putNode(t, "n", { interaction: "none" });
    expect(await (await ask(t, "n", "12345")).json()).toEqual({ status: "ok", destination: "true" });

    // What another isolate's PUT does, without touching this isolate's local epoch.
    await env.DB.prepare("UPDATE nodes SET config = json_set(config, '$.expectedLength', 3) WHERE tenant_id = ? AND id = 'n'").bind(t.id).run();
    let since = Date.now();
    await tenantHome(env, t.id).bump(t.id);
    const nodeSeen = await within(since, RECHECK_MS + 500, async () => ((await (await ask(t, "n", "12345")).json()) as { destination: string }).destination === "false");
    expect(nodeSeen).toBeLessThanOrEqual(RECHECK_MS + 500);

    await env.DB.prepare("UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?").bind(t.agentId).run();
    since = Date.now();
    await tenantHome(env, t.id).bump(t.id);
    const revokeSeen = await within(since, RECHECK_MS + 500, async () => (await ask(t, "n", "123")).status === 401);
    expect(revokeSeen).toBeLessThanOrEqual(RECHECK_MS + 500);
  });

  it("every authenticated write to a tenant moves its version, through the API and the operator's tenant delete; identify does not", async () => {
    const t = await newTenant("bump");
    const home = tenantHome(env, t.id);
    const v0 = await home.version();
    await putNode(t, "n", { interaction: "none" });
    const v1 = await home.version();
    expect(v1).not.toBe(v0);
    expect((await ask(t, "n", "12345")).status).toBe(200);
    expect(await home.version()).toBe(v1);
    // Refused and unauthenticated writes change nothing, so they cannot make a tenant's isolates re-read D1.
    expect((await call("DELETE", `/v1/tenants/${t.id}/keys/${t.adminId}`, { token: t.agent })).status).toBe(403);
    expect((await call("PUT", `/v1/tenants/${t.id}/nodes/x`, { body: {} })).status).toBe(401);
    expect(await home.version()).toBe(v1);
    expect((await call("DELETE", `/v1/tenants/${t.id}/keys/${t.agentId}`, { token: t.admin })).status).toBe(204);
    const v2 = await home.version();
    expect(v2).not.toBe(v1);
    expect((await call("DELETE", `/v1/tenants/${t.id}`, { token: OPERATOR })).status).toBe(200);
    expect(await home.version()).not.toBe(v2);
  });

  it("a made-up tenant name costs a version read and leaves no tables in its object", async () => {
    const stub = tenantHome(env, `nobody-${crypto.randomUUID()}`);
    expect(await stub.version()).toBe(0);
    expect(await stub.list({ limit: 10 })).toEqual([]);
    const ours = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name IN ('decisions', 'minutes', 'meta')").toArray(),
    );
    expect(ours).toEqual([]);
  });
});
