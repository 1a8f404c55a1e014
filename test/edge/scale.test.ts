import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index.js";
import { RECHECK_MS } from "../../worker/store/nodes.js";
import { feedShard } from "../../worker/tenant/feed.js";
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

/** TENANT_HOME whose stubs count the per-tenant version checks made through them. */
function countingHomes() {
  const counter = { version: 0 };
  const ns = new Proxy(env.TENANT_HOME, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop);
      if (typeof v !== "function") return v;
      if (prop !== "get") return (...args: unknown[]) => Reflect.apply(v, target, args) as unknown;
      return (id: DurableObjectId) => {
        const stub = target.get(id);
        return new Proxy(stub, {
          get(s, p) {
            if (p === "version") counter.version++;
            const m: unknown = Reflect.get(s, p);
            // RPC methods are remote: `bind` would be a call to the object, so forward by hand.
            return typeof m === "function" ? (...args: unknown[]) => Reflect.apply(m, s, args) as unknown : m;
          },
        });
      };
    },
  });
  return { ns, counter };
}

/** A change feed whose every shard is unreachable, counting the reads tried. */
const deadFeedReads = { n: 0 };
const deadFeed = {
  idFromName: (name: string) => env.CONFIG_FEED.idFromName(name),
  get: () => ({
    read: () => {
      deadFeedReads.n++;
      return Promise.reject(new Error("feed unreachable"));
    },
  }),
} as unknown as typeof env.CONFIG_FEED;

/** Identify through this isolate's worker module (its copies are the ones under test), waiting for waitUntil work too. */
async function ask(t: { id: string; agent: string }, node: string, idContact: string, db?: D1Database | Partial<typeof env>) {
  const ctx = createExecutionContext();
  const req = new Request(`http://edge.test/v1/tenants/${t.id}/nodes/${node}/identify`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.agent}`, "content-type": "application/x-www-form-urlencoded" },
    body: `idContact=${idContact}`,
  });
  const bindings = db === undefined ? env : "prepare" in db ? { ...env, DB: db as D1Database } : { ...env, ...db };
  const res = await worker.fetch(req, bindings, ctx);
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

  it("steady state asks no tenant's object for its version: the change feed vouches for every tenant, and carries a change within the window", async () => {
    const a = await newTenant("feed-a");
    const b = await newTenant("feed-b");
    for (const t of [a, b]) {
      await putNode(t, "n", { interaction: "none" });
      expect((await ask(t, "n", "12345")).status).toBe(200);
    }
    // One feed read uncounted: if the shard's storage was reset between tests, the isolate
    // starts over here and re-checks each tenant once.
    await sleep(RECHECK_MS + 100);
    for (const t of [a, b]) expect((await ask(t, "n", "12345")).status).toBe(200);
    // Past the re-check interval again: the old design asked each tenant's object once more here.
    await sleep(RECHECK_MS + 100);
    const { ns, counter } = countingHomes();
    for (let round = 0; round < 2; round++) {
      for (const t of [a, b]) expect(await (await ask(t, "n", "12345", { TENANT_HOME: ns })).json()).toEqual({ status: "ok", destination: "true" });
      await sleep(RECHECK_MS + 100);
    }
    expect(counter.version).toBe(0);

    // Another isolate's write: D1 row, then the bump, which puts the version in the feed.
    await env.DB.prepare("UPDATE nodes SET config = json_set(config, '$.expectedLength', 3) WHERE tenant_id = ? AND id = 'n'").bind(a.id).run();
    const since = Date.now();
    await tenantHome(env, a.id).bump(a.id);
    const seen = await within(since, RECHECK_MS + 500, async () => ((await (await ask(a, "n", "12345", { TENANT_HOME: ns })).json()) as { destination: string }).destination === "false");
    expect(seen).toBeLessThanOrEqual(RECHECK_MS + 500);
    expect(counter.version).toBe(0);
    // The other tenant's copy was kept: the feed named only the tenant that changed.
    const { db, counter: d1 } = countingDb(env.DB);
    expect((await ask(b, "n", "12345", { TENANT_HOME: ns, DB: db })).status).toBe(200);
    expect(d1.n).toBe(0);
  });

  it("with the change feed unreachable each tenant's object is asked again once a second, so a change is still seen within the window", async () => {
    const t = await newTenant("feed-down");
    await putNode(t, "n", { interaction: "none" });
    expect((await ask(t, "n", "12345")).status).toBe(200);
    // Long enough that the last good feed read vouches for nothing any more.
    await sleep(RECHECK_MS + 600);
    const { ns, counter } = countingHomes();
    const down = { TENANT_HOME: ns, CONFIG_FEED: deadFeed };
    expect((await ask(t, "n", "12345", down)).status).toBe(200);

    await env.DB.prepare("UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?").bind(t.agentId).run();
    const since = Date.now();
    deadFeedReads.n = 0;
    let asked = 0;
    await tenantHome(env, t.id).bump(t.id);
    const seen = await within(since, RECHECK_MS + 500, async () => {
      asked++;
      return (await ask(t, "n", "12345", down)).status === 401;
    });
    expect(seen).toBeLessThanOrEqual(RECHECK_MS + 500);
    expect(counter.version).toBeGreaterThan(0);
    // A failing feed is tried once a second, not by every call.
    expect(asked).toBeGreaterThan(3);
    expect(deadFeedReads.n).toBeLessThanOrEqual(Math.ceil(seen / RECHECK_MS) + 1);
  });

  it("a feed shard answers what changed since the reader's cursor, and tells a reader it cannot follow to start over", async () => {
    const shard = feedShard(env, 1000 + Math.floor(Math.random() * 1e6));
    const first = await shard.read(null);
    expect(first).toMatchObject({ changes: [], reset: false });
    await shard.record("t1", 5);
    await shard.record("t2", 7);
    await shard.record("t1", 4); // an older version arriving late does not win
    const next = await shard.read({ epoch: first.epoch, seq: first.seq });
    expect(next.reset).toBe(false);
    expect(next.changes).toEqual([
      { tenant: "t2", version: 7 },
      { tenant: "t1", version: 5 },
    ]);
    expect((await shard.read({ epoch: next.epoch, seq: next.seq })).changes).toEqual([]);
    // A cursor from another shard or an earlier life of this one.
    expect(await shard.read({ epoch: next.epoch + 1, seq: 0 })).toMatchObject({ changes: [], reset: true });
  });

  it("a bump is in every feed shard when it returns, and what a shard still owes is sent again by the tenant's alarm", async () => {
    const t = await newTenant("feed-owed");
    const shards = [0, 3, 7];
    const cursors = await Promise.all(shards.map((k) => feedShard(env, k).read(null)));
    const home = tenantHome(env, t.id);
    const v1 = await home.bump(t.id);
    for (const [i, k] of shards.entries()) {
      const { epoch, seq } = cursors[i]!;
      expect((await feedShard(env, k).read({ epoch, seq })).changes).toContainEqual({ tenant: t.id, version: v1 });
    }
    // Shard 3 missed a later version (as if unreachable when it was sent): the alarm resends it.
    const after = await feedShard(env, 3).read(null);
    const owed = v1 + 1000;
    await runInDurableObject(home, async (instance, state) => {
      await state.storage.put("feedPending", { tenant: t.id, version: owed, shards: [3] });
      await instance.alarm();
      expect(await state.storage.get("feedPending")).toBeUndefined();
    });
    expect((await feedShard(env, 3).read({ epoch: after.epoch, seq: after.seq })).changes).toEqual([{ tenant: t.id, version: owed }]);
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
