import { describe, expect, it } from "vitest";
import { BODY_CAP, costlyBodies } from "../support/costly-rules.js";
import { call, crmPath, identify, json, newTenant, putConnector, putNode } from "./helpers.js";

type Err = { error: { code: string; message: string } };

/**
 * Patterns that backtrack exponentially (or worse) in JavaScript's engine, each with the field of
 * the fake CRM's "long" record (5000 characters) that makes it do so and that it does not match.
 * The first four got past the old save-time check for nested quantifiers.
 */
const HOSTILE: Array<[pattern: string, field: string]> = [
  ["^B-(1|1)*2$", "b"],
  ["^B-((1+))+2$", "b"],
  ["\\d*\\d*\\d*\\d*\\d*x", "one"],
  ["(?:1|11)+2", "one"],
  ["(a|a)*b", "a"],
  ["(a+)+$", "bang"],
  ["(.*)*x", "y"],
  ["^(1|11|111|1111|11111|111111|1111111|11111111)*2$", "one"],
  ["^(\\w+\\s?)*$", "bang"],
  ["^(([a-z])+.)+[A-Z]([a-z])+$", "a"],
];

/** What RE2 cannot run: refused at save time, naming the field and why. */
const REFUSED: Array<[pattern: string, why: RegExp]> = [
  ["^(1)\\1*2$", /RE2.*\\1/],
  ["^(?=1)1*2$", /RE2.*lookaround|\(\?=/],
  ["(?<=B)-1", /RE2/],
  ["(?!2)1", /RE2/],
  ["1++2", /RE2/],
  ["(\\d{100}){100}", /RE2|repeat/],
  ["\\d{150}\\w{150}", /\{150\} is over 100/],
  ["\\d{90}\\w{90}\\s{90}", /too large once compiled/],
];

const restConn = (url: string, pattern: string, path = "id") => ({
  kind: "rest",
  url,
  recordPath: "data.customer",
  timeoutMs: 900,
  rules: [{ when: { path, op: "matches", value: pattern }, destination: "1,9" }],
  default: "true",
  notFound: "false",
});

describe("a tenant's rule cannot stall the edge (RE2 for matches)", () => {
  it("each pathological pattern is either accepted and answers at once, or refused with a clear message", async () => {
    const t = await newTenant();
    const url = crmPath("rest", "found") + "/{idContact}";
    for (const [pattern, why] of REFUSED) {
      const res = await call("PUT", `/v1/tenants/${t.id}/connectors/c`, { token: t.admin, body: restConn(url, pattern) });
      expect(res.status, pattern).toBe(400);
      const msg = (await json<Err>(res)).error.message;
      expect(msg, pattern).toContain("rules.0.when.value");
      expect(msg, pattern).toMatch(why);
    }
    for (const [i, [pattern]] of HOSTILE.entries()) {
      await putConnector(t, `c${i}`, restConn(url, pattern));
    }
  });

  it("a 64 KB body of the costliest patterns gets 400 at once, and the tenant's next request is served", async () => {
    const t = await newTenant();
    for (const { name, body, why } of costlyBodies(crmPath("rest", "found") + "/{idContact}")) {
      expect(JSON.stringify(body).length, name).toBeLessThanOrEqual(BODY_CAP);
      const started = Date.now();
      const res = await call("PUT", `/v1/tenants/${t.id}/connectors/costly`, { token: t.admin, body });
      const ms = Date.now() - started;
      expect(res.status, name).toBe(400);
      expect((await json<Err>(res)).error.message, name).toMatch(why);
      // Compiling every pattern took seconds here; refusing takes milliseconds (CPU: test/rules/cost.test.ts).
      expect(ms, name).toBeLessThan(1000);
    }
    expect((await call("GET", `/v1/tenants/${t.id}/connectors`, { token: t.admin })).status).toBe(200);
  });

  it("tenant B's worst rules leave tenant A's identify untouched, and B still answers inside its deadline", async () => {
    const a = await newTenant("a");
    const b = await newTenant("b");
    await putConnector(a, "crm", { ...restConn(crmPath("rest", "found") + "/{idContact}", "^1234"), rules: [{ when: { path: "plan", op: "eq", value: "gold" }, destination: "1,3" }] });
    await putNode(a, "n", { interaction: "crm_destination", connector: "crm" });
    const aBefore = Date.now();
    expect(await (await identify(a, "n", "12340", { "x-deadline-ms": "1000" })).json()).toEqual({ status: "ok", destination: "1,3" });
    const aAlone = Date.now() - aBefore;

    for (const [i, [pattern, field]] of HOSTILE.entries()) {
      await putConnector(b, `c${i}`, restConn(crmPath("rest", "long") + "/{idContact}", pattern, field));
      await putNode(b, `n${i}`, { interaction: "crm_destination", connector: `c${i}` });
      const started = Date.now();
      const [rb, ra] = await Promise.all([
        identify(b, `n${i}`, `5550${i}`, { "x-deadline-ms": "1000" }).then(async (r) => ({ body: await r.json(), ms: Date.now() - started })),
        identify(a, "n", `1234${i % 5}`, { "x-deadline-ms": "1000" }).then(async (r) => ({ body: await r.json(), ms: Date.now() - started })),
      ]);
      // RE2 tests the same language as the JavaScript pattern: none of these fields matches it.
      expect(rb.body, pattern).toEqual({ status: "ok", destination: "true" });
      expect(rb.ms, pattern).toBeLessThan(1000);
      expect(ra.body, pattern).toEqual({ status: "ok", destination: "1,3" });
      expect(ra.ms, pattern).toBeLessThan(Math.max(1000, aAlone + 500));
    }
  });

  it("the same rules still match what they should (RE2 semantics, flag i)", async () => {
    const b = await newTenant("b");
    const cases: Array<[string, string, "i" | undefined, string]> = [
      ["^1(1|1)*2$", "11112", undefined, "1,9"],
      ["(?:1|11)+2", "11112", undefined, "1,9"],
      ["^(1|11)+$", "11112", undefined, "true"],
      ["^1{3}\\d2$", "11112", undefined, "1,9"],
    ];
    for (const [i, [pattern, id, flags, want]] of cases.entries()) {
      const conn = restConn(crmPath("rest", "found") + "/{idContact}", pattern);
      await putConnector(b, `m${i}`, { ...conn, rules: [{ when: { ...conn.rules[0]!.when, ...(flags ? { flags } : {}) }, destination: "1,9" }] });
      await putNode(b, `m${i}`, { interaction: "crm_destination", connector: `m${i}` });
      expect(await (await identify(b, `m${i}`, id)).json(), `${pattern} ${id}`).toEqual({ status: "ok", destination: want });
    }
    // Flag i on a letter field: plan is "gold" or "bronze".
    const conn = restConn(crmPath("rest", "found") + "/{idContact}", "^GOLD$", "plan");
    await putConnector(b, "ci", { ...conn, rules: [{ when: { ...conn.rules[0]!.when, flags: "i" }, destination: "1,9" }] });
    await putConnector(b, "cs", conn);
    await putNode(b, "ci", { interaction: "crm_destination", connector: "ci" });
    await putNode(b, "cs", { interaction: "crm_destination", connector: "cs" });
    expect(await (await identify(b, "ci", "12340")).json()).toEqual({ status: "ok", destination: "1,9" });
    expect(await (await identify(b, "cs", "12340")).json()).toEqual({ status: "ok", destination: "true" });
  });
});
