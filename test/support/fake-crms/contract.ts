import { describe, expect, inject, it } from "vitest";
import { connectorConfig, connectorModule } from "../../../worker/connectors/registry.js";
import { CrmError } from "../../../worker/connectors/errors.js";
import { DEFAULT_429_PAUSE_MS } from "../../../worker/quota/client.js";
import { call, identify, json, newTenant, putConnector, putNode } from "../../edge/helpers.js";
import type { Log, Scenario } from "./common.js";
import type { CrmFixture } from "./fixtures.js";

/** A fresh prefix on the fake CRMs: its own scenario state and request log. */
function fake(kind: string, scenario: Scenario) {
  const root = inject("crmsUrl");
  const unique = crypto.randomUUID();
  return {
    base: `${root}/u/${unique}/${kind}/${scenario}`,
    log: async () => (await (await fetch(`${root}/_log?u=${unique}`)).json()) as Log,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ids that try to break out of every query language the connectors write. */
export const HOSTILE_IDS = [
  "' OR Name != '",
  "12345' OR Id != null LIMIT 200 --",
  "\\' OR 1=1 --",
  "x\\",
  "a'') or (1 eq 1",
  "1) or (Email:starts_with:a",
  "1\\,2\\)",
  '" OR role:admin "',
  "name:'x' OR id:1",
  "\u0000\n\r\t",
  "ünïcödé ☎ 𝄞",
  "*",
];

/**
 * The behaviour every CRM connector must show, whatever the CRM: run once per CRM with its
 * fixture factory (STYLE: one contract suite for every adapter). It goes through the worker's
 * real HTTP surface (identify, the connector test endpoint) to a fake CRM over real HTTP.
 */
export function connectorContract(fx: CrmFixture) {
  const mode2 = {
    rules: [
      { when: { path: fx.planPath, op: "eq", value: "gold" }, destination: "1,3" },
      { when: { path: fx.planPath, op: "eq", value: "bronze" }, destination: "1,4" },
    ],
    default: "true",
    notFound: "false",
  };
  const mode1 = { rules: [{ when: { path: fx.paymentPath, op: "eq", value: "current" }, destination: "true" }], default: "false", notFound: "false" };

  async function setup(scenario: Scenario, opts: { rules?: object; extra?: object; interaction?: string } = {}) {
    const t = await newTenant(fx.kind.slice(0, 6));
    const f = fake(fx.kind, scenario);
    await putConnector(t, "crm", { ...fx.config(f.base), ...(opts.rules ?? mode2), ...opts.extra });
    await putNode(t, "n", { interaction: opts.interaction ?? "crm_destination", connector: "crm" });
    return { t, f };
  }
  const test = (t: { id: string; admin: string }, idContact: string) => call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { idContact } });
  const reason = (res: Response) => res.headers.get("x-bridge-reason");

  describe(`${fx.kind} connector contract`, () => {
    it("found: mode 2 routes on the CRM's native plan field, with the request as documented", async () => {
      const { t, f } = await setup("found");
      const gold = await identify(t, "n", "12342");
      expect(await json(gold)).toEqual({ status: "ok", destination: "1,3" });
      expect(gold.headers.get("x-cache")).toBe("MISS");
      expect(await json(await identify(t, "n", "12347"))).toEqual({ status: "ok", destination: "1,4" });
      const log = await f.log();
      expect(log.violations).toEqual([]);
      expect(log.decoded).toEqual(expect.arrayContaining(["12342", "12347"]));
    });

    it("found: mode 1 answers whether the customer is up to date with payments", async () => {
      const { t, f } = await setup("found", { rules: mode1, interaction: "crm_true_false" });
      expect(await json(await identify(t, "n", "55550"))).toEqual({ status: "ok", destination: "true" });
      expect(await json(await identify(t, "n", "55551"))).toEqual({ status: "ok", destination: "false" });
      expect((await f.log()).violations).toEqual([]);
    });

    it("not found: the connector's notFound decides", async () => {
      const { t, f } = await setup("notfound", { rules: { ...mode2, notFound: "1,9" } });
      expect(await json(await identify(t, "n", "40404"))).toEqual({ status: "ok", destination: "1,9" });
      const r = await json(await test(t, "40405"));
      expect(r).toMatchObject({ ok: true, result: "notFound", decision: "1,9", rule: "notFound", matches: 0, fields: {} });
      expect((await f.log()).violations).toEqual([]);
    });

    it("a 404 from the CRM counts as not found", async () => {
      const { t } = await setup("gone");
      expect(await json(await identify(t, "n", "40406"))).toEqual({ status: "ok", destination: "false" });
    });

    it("several matches: the first record decides and the count is reported", async () => {
      const { t, f } = await setup("several");
      const r = await json(await test(t, "77777"));
      expect(r).toMatchObject({ ok: true, result: "found", decision: "1,3", rule: 0, matches: 2 });
      expect((await f.log()).violations).toEqual([]);
    });

    it("the test endpoint shows only the fields the rules read, never secrets", async () => {
      const { t } = await setup("found");
      const res = await test(t, "12342");
      const text = await res.text();
      const r = JSON.parse(text) as { fields: Record<string, unknown>; steps: unknown[]; ms: number };
      expect(res.status).toBe(200);
      expect(r.fields).toEqual({ [fx.planPath]: "gold" });
      expect(r.steps).toHaveLength(1);
      expect(typeof r.ms).toBe("number");
      expect(text).not.toContain("Customer 1");
      for (const p of fx.secretPaths) {
        const secretValue = p.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], fx.config("http://x"));
        expect(text).not.toContain(String(secretValue));
      }
    });

    it("secrets are masked on GET and a masked PUT keeps them", async () => {
      const { t } = await setup("found");
      const got = await json<Record<string, unknown>>(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }));
      for (const p of fx.secretPaths) expect(p.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], got)).toBe("***");
      const { id: _id, ...config } = got;
      await putConnector(t, "crm", config);
      expect(await json(await test(t, "12342"))).toMatchObject({ ok: true, decision: "1,3" });
    });

    it("auth failure: crm_auth, and credentials are not hammered", async () => {
      const { t, f } = await setup("auth");
      const res = await identify(t, "n", "12342");
      expect(await json(res)).toEqual({ status: "fail", destination: "false" });
      expect(reason(res)).toBe("crm_auth");
      const log = await f.log();
      if (fx.oauth) {
        expect(log.tokenCalls).toBe(1);
        expect(log.dataCalls).toBe(0);
      } else {
        expect(log.dataCalls).toBe(1);
      }
      expect(await json(await test(t, "12343"))).toMatchObject({ ok: false, reason: "crm_auth" });
    });

    it.skipIf(!fx.oauth)("a refused access token is dropped, refreshed and the call retried once", async () => {
      const { t, f } = await setup("expired");
      expect(await json(await identify(t, "n", "12342"))).toEqual({ status: "ok", destination: "1,3" });
      let log = await f.log();
      expect(log.tokenCalls).toBe(2);
      expect(log.dataCalls).toBe(2);
      expect(log.violations).toEqual([]);
      // The new token is cached: the next lookup fetches none.
      expect(await json(await identify(t, "n", "12347"))).toEqual({ status: "ok", destination: "1,4" });
      log = await f.log();
      expect(log.tokenCalls).toBe(2);
      expect(log.dataCalls).toBe(3);
    });

    it.skipIf(!fx.oauth)("concurrent lookups share one token request", async () => {
      const { t, f } = await setup("found");
      const answers = await Promise.all(["10001", "10002", "10003", "10004", "10005"].map((id) => identify(t, "n", id).then((r) => json(r))));
      expect(answers.every((a) => a.status === "ok")).toBe(true);
      const log = await f.log();
      expect(log.tokenCalls).toBe(1);
      expect(log.dataCalls).toBe(5);
    });

    it("rate limit: crm_rate_limited, and no call until Retry-After has passed", async () => {
      // The fake refuses the first data call the way this CRM throttles (its `throttled`).
      const pauseMs = fx.throttleUnstated ? DEFAULT_429_PAUSE_MS : 1000;
      const { t, f } = await setup("ratelimit");
      const first = await identify(t, "n", "12342");
      expect(reason(first)).toBe("crm_rate_limited");
      let log = await f.log();
      // One call, not retried: a throttled 403 is not a refused token (no second token request).
      expect(log.dataCalls).toBe(1);
      if (fx.oauth) expect(log.tokenCalls).toBe(1);
      // The shared guard was told, with the pause this CRM asked for (or the default).
      const usage = async () => json<{ last429: { retryAfterSeconds: number } | null }>(await call("GET", `/v1/tenants/${t.id}/connectors/crm/usage`, { token: t.admin }));
      let seen = await usage();
      for (let i = 0; i < 20 && seen.last429 === null; i++) {
        await sleep(50);
        seen = await usage();
      }
      expect(seen.last429?.retryAfterSeconds).toBe(pauseMs / 1000);
      // Paused by the quota guard: a call whose deadline ends before the pause does is shed at once.
      const second = await identify(t, "n", "12343", { "x-deadline-ms": "300" });
      expect(reason(second)).toBe("crm_quota");
      expect((await f.log()).dataCalls).toBe(1);
      await sleep(pauseMs + 100);
      // Throttling is not failure: the circuit did not open, the CRM is called and answers.
      const third = await identify(t, "n", "12344");
      expect(await json(third)).toEqual({ status: "ok", destination: "1,3" });
      expect(reason(third)).toBeNull();
      log = await f.log();
      expect(log.dataCalls).toBeGreaterThan(1);
      expect(log.violations).toEqual([]);
    });

    it("malformed replies: crm_bad_reply", async () => {
      for (const scenario of ["garbage", "badshape"] as const) {
        const { t } = await setup(scenario);
        const res = await identify(t, "n", "12342");
        expect(await json(res)).toEqual({ status: "fail", destination: "false" });
        expect(reason(res)).toBe("crm_bad_reply");
      }
    });

    it("timeout: crm_timeout within the connector's budget", async () => {
      const { t } = await setup("hang", { extra: { timeoutMs: 300 } });
      const started = Date.now();
      const res = await identify(t, "n", "12342");
      expect(reason(res)).toBe("crm_timeout");
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it("hostile ids reach the CRM as one literal value, or are refused before any call", async () => {
      for (const hostile of HOSTILE_IDS) {
        const f = fake(fx.kind, "found");
        const config = connectorConfig.parse({ ...fx.config(f.base), ...mode2 });
        const ctx = { tenant: "hostile", connectorId: crypto.randomUUID(), customerId: hostile, http: { signal: AbortSignal.timeout(3000), allowPrivate: true } };
        let refused = false;
        try {
          await connectorModule(config.kind).lookup(config, ctx);
        } catch (e) {
          if (!(e instanceof CrmError) || e.code !== "invalid_query_value") throw e;
          refused = true;
        }
        const log = await f.log();
        expect(log.violations, JSON.stringify(hostile)).toEqual([]);
        if (refused) expect(log.dataCalls, JSON.stringify(hostile)).toBe(0);
        else expect(log.decoded, JSON.stringify(hostile)).toEqual([hostile]);
      }
    });
  });
}
