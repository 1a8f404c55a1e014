import { describe, expect, inject, it } from "vitest";
import type { Log } from "../support/fake-crms/common.js";
import { CREDS } from "../support/fake-crms/credentials.js";
import { crmFixtures } from "../support/fake-crms/fixtures.js";
import { call, crmPath, identify, json, newTenant, putConnector, putNode, waitForDecisions } from "./helpers.js";

function fake(kind: string, scenario = "found") {
  const root = inject("crmsUrl");
  const unique = crypto.randomUUID();
  return { base: `${root}/u/${unique}/${kind}/${scenario}`, log: async () => (await (await fetch(`${root}/_log?u=${unique}`)).json()) as Log };
}
const planRules = (path: string) => ({ rules: [{ when: { path, op: "eq", value: "gold" }, destination: "1,3" }], default: "1,4", notFound: "false" });
const test = (t: { id: string; admin: string }, connector: string, idContact: string) =>
  call("POST", `/v1/tenants/${t.id}/connectors/${connector}/test`, { token: t.admin, body: { idContact } });

describe("CRM specifics", () => {
  it("hubspot asks for the properties its rules read (search returns only defaults otherwise)", async () => {
    const t = await newTenant("hs");
    const f = fake("hubspot");
    await putConnector(t, "crm", { ...crmFixtures.hubspot!.config(f.base), properties: ["email"], ...planRules("properties.plan") });
    expect(await json(await test(t, "crm", "12342"))).toMatchObject({ ok: true, decision: "1,3" });
    const req = (await f.log()).requests[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${CREDS.hubspot.accessToken}`);
    expect(JSON.parse(req.body)).toEqual({
      filterGroups: [{ filters: [{ propertyName: "customer_id", operator: "EQ", value: "12342" }] }],
      properties: ["customer_id", "email", "plan"],
      limit: 1,
    });
  });

  it("salesforce with a static bearer token SELECTs Id, the id field and the rules' fields", async () => {
    const t = await newTenant("sf");
    const f = fake("salesforce");
    await putConnector(t, "crm", {
      kind: "salesforce",
      instanceUrl: f.base,
      sobject: "Contact",
      idField: "Customer_Number__c",
      auth: { type: "bearer", token: "static-sf-token" },
      ...planRules("Plan__c"),
    });
    expect(await json(await test(t, "crm", "12342"))).toMatchObject({ ok: true, decision: "1,3", fields: { Plan__c: "gold" } });
    const log = await f.log();
    expect(log.tokenCalls).toBe(0);
    expect(log.violations).toEqual([]);
    expect(log.requests[0]!.query.q).toBe("SELECT Id, Customer_Number__c, Plan__c FROM Contact WHERE Customer_Number__c = '12342' LIMIT 2");
  });

  it("salesforce refresh-token flow posts grant_type=refresh_token with the refresh token", async () => {
    const t = await newTenant("sf");
    const f = fake("salesforce");
    const fx = crmFixtures.salesforce!.config(f.base) as { auth: Record<string, unknown> };
    await putConnector(t, "crm", { ...fx, auth: { ...fx.auth, refreshToken: CREDS.salesforce.refreshToken }, ...planRules("Plan__c") });
    expect(await json(await test(t, "crm", "12347"))).toMatchObject({ ok: true, decision: "1,4" });
    const log = await f.log();
    expect(log.violations).toEqual([]);
    expect(new URLSearchParams(log.requests[0]!.body).get("grant_type")).toBe("refresh_token");
    const got = await json<{ auth: Record<string, unknown> }>(await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin }));
    expect(got.auth).toMatchObject({ clientSecret: "***", refreshToken: "***" });
  });

  it("zoho sends Zoho-oauthtoken and an escaped criteria; 204 is not found", async () => {
    const t = await newTenant("zo");
    const f = fake("zoho", "notfound");
    await putConnector(t, "crm", { ...crmFixtures.zoho!.config(f.base), ...planRules("Plan") });
    expect(await json(await test(t, "crm", "12342"))).toMatchObject({ ok: true, result: "notFound", decision: "false" });
    const log = await f.log();
    expect(log.violations).toEqual([]);
    const data = log.requests.find((r) => r.path.endsWith("/search"))!;
    expect(data.headers.authorization).toMatch(/^Zoho-oauthtoken fake-access-/);
    expect(data.query.criteria).toBe("(Customer_No:equals:12342)");
  });

  it("pipedrive only counts a person whose own configured field holds the id", async () => {
    const t = await newTenant("pd");
    const f = fake("pipedrive");
    // Search hits the id in some custom field, but the configured field holds the plan: not this customer.
    await putConnector(t, "crm", { ...crmFixtures.pipedrive!.config(f.base), field: CREDS.pipedrive.planField, ...planRules(`custom_fields.${CREDS.pipedrive.planField}`) });
    expect(await json(await test(t, "crm", "12342"))).toMatchObject({ ok: true, result: "notFound" });
    const log = await f.log();
    expect(log.requests.map((r) => r.path)).toEqual(["/api/v2/persons/search", "/api/v2/persons/701"]);
    expect(log.requests[0]!.headers["x-api-token"]).toBe(CREDS.pipedrive.apiToken);
  });

  it("zendesk looks up external_id by default, without search syntax", async () => {
    const t = await newTenant("zd");
    const f = fake("zendesk");
    const { field: _f, ...config } = crmFixtures.zendesk!.config(f.base);
    await putConnector(t, "crm", { ...config, ...planRules("user_fields.plan") });
    expect(await json(await test(t, "crm", "12342"))).toMatchObject({ ok: true, decision: "1,3" });
    const req = (await f.log()).requests[0]!;
    expect(req.query).toEqual({ external_id: "12342" });
    expect(atob(req.headers.authorization!.slice(6))).toBe(`${CREDS.zendesk.email}/token:${CREDS.zendesk.apiToken}`);
  });

  it("freshdesk sends the quoted query and the API key as the Basic user", async () => {
    const t = await newTenant("fd");
    const f = fake("freshdesk");
    await putConnector(t, "crm", { ...crmFixtures.freshdesk!.config(f.base), ...planRules("custom_fields.plan") });
    expect(await json(await test(t, "crm", "12342"))).toMatchObject({ ok: true, decision: "1,3" });
    const req = (await f.log()).requests[0]!;
    expect(req.query.query).toBe(`"customer_no:'12342'"`);
    expect(atob(req.headers.authorization!.slice(6))).toBe(`${CREDS.freshdesk.apiKey}:X`);
  });

  it("dynamics365 keeps the rules' columns in $select and counts matches with $count", async () => {
    const t = await newTenant("dy");
    const f = fake("dynamics365", "several");
    await putConnector(t, "crm", { ...crmFixtures.dynamics365!.config(f.base), select: ["fullname"], ...planRules("new_plan") });
    expect(await json(await test(t, "crm", "12342"))).toMatchObject({ ok: true, decision: "1,3", matches: 2 });
    const log = await f.log();
    expect(log.violations).toEqual([]);
    const data = log.requests.find((r) => r.path.startsWith("/api/data"))!;
    expect(data.query).toEqual({ $filter: "new_customerno eq '12342'", $top: "1", $count: "true", $select: "fullname,new_plan" });
    expect(data.headers.authorization).toMatch(/^Bearer fake-access-/);
  });

  it("access tokens never reach a response or the decision log", async () => {
    const t = await newTenant("tok");
    const f = fake("salesforce");
    await putConnector(t, "crm", { ...crmFixtures.salesforce!.config(f.base), ...planRules("Plan__c") });
    await putNode(t, "n", { interaction: "crm_destination", connector: "crm" });
    const texts = [await (await identify(t, "n", "12342")).text(), await (await test(t, "crm", "12343")).text()];
    texts.push(JSON.stringify(await waitForDecisions(t)));
    texts.push(await (await call("GET", `/v1/tenants/${t.id}/connectors/crm`, { token: t.admin })).text());
    const log = await f.log();
    expect(log.issued.length).toBeGreaterThan(0);
    for (const text of texts) {
      for (const tok of log.issued) expect(text).not.toContain(tok);
      expect(text).not.toContain(CREDS.salesforce.clientSecret);
    }
  });
});

describe("CRM connector chains", () => {
  it("asks CRMs in order; a failing and a not-finding CRM are steps in the decision log, the first record decides", async () => {
    const t = await newTenant("chain");
    const down = fake("zoho", "auth");
    const empty = fake("zendesk", "notfound");
    const found = fake("salesforce", "several");
    await putConnector(t, "zoho", { ...crmFixtures.zoho!.config(down.base), ...planRules("Plan") });
    await putConnector(t, "zendesk", { ...crmFixtures.zendesk!.config(empty.base), ...planRules("user_fields.plan") });
    await putConnector(t, "salesforce", { ...crmFixtures.salesforce!.config(found.base), ...planRules("Plan__c") });
    await putNode(t, "n", { interaction: "crm_destination", connector: ["zoho", "zendesk", "salesforce"] });
    expect(await json(await identify(t, "n", "24682"))).toEqual({ status: "ok", destination: "1,3" });
    const decisions = await waitForDecisions<{ steps: Array<Record<string, unknown>> }>(t);
    expect(decisions[0]!.steps).toEqual([
      expect.objectContaining({ connector: "zoho", result: "error", reason: "crm_auth" }),
      expect.objectContaining({ connector: "zendesk", result: "notFound" }),
      expect.objectContaining({ connector: "salesforce", result: "found", decision: "1,3", rule: 0, matches: 2 }),
    ]);
  });
});

describe("connector test endpoint", () => {
  it("refuses an id that is not 1–30 digits, and an unknown connector", async () => {
    const t = await newTenant("ct");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    const bad = await test(t, "crm", "12a");
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ error: { code: "invalid_id" } });
    expect((await test(t, "nope", "123")).status).toBe(404);
    expect((await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.agent, body: { idContact: "1" } })).status).toBe(403);
  });

  it("a webhook answers with the CRM's own decision and no fields", async () => {
    const t = await newTenant("ct");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "dest-3-7") });
    expect(await json(await test(t, "crm", "123"))).toMatchObject({ ok: true, kind: "webhook", result: "found", decision: "3,7", matches: 1, fields: {} });
  });

  it("a failing CRM is a 200 with ok:false and the reason", async () => {
    const t = await newTenant("ct");
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "http-503") });
    const res = await test(t, "crm", "123");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ ok: false, reason: "crm_http_503", steps: [{ connector: "crm", result: "error", reason: "crm_http_503" }] });
  });

  it("bypasses the cache", async () => {
    const t = await newTenant("ct");
    const url = crmPath("contract", "true");
    await putConnector(t, "crm", { kind: "webhook", url });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    await identify(t, "n", "123");
    expect((await identify(t, "n", "123")).headers.get("x-cache")).toBe("HIT");
    const before = (await (await fetch(`${new URL(url).origin}/_calls?path=${encodeURIComponent(new URL(url).pathname)}`)).json()) as { count: number };
    await test(t, "crm", "123");
    const after = (await (await fetch(`${new URL(url).origin}/_calls?path=${encodeURIComponent(new URL(url).pathname)}`)).json()) as { count: number };
    expect(after.count).toBe(before.count + 1);
  });

  it("is in /openapi.json with every CRM kind in the connector schema", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await call("GET", "/openapi.json"));
    expect(doc.paths["/v1/tenants/{tenant}/connectors/{connector}/test"]?.post).toBeTruthy();
    const text = JSON.stringify(doc);
    for (const kind of ["hubspot", "salesforce", "zoho", "pipedrive", "zendesk", "freshdesk", "dynamics365"]) expect(text).toContain(`"${kind}"`);
  });
});
