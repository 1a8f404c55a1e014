import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWholePath, type WholePath } from "../support/whole-path.js";

/**
 * Caller → fake Asterisk → agent → edge (real workerd, local D1/KV) → fake CRM, each its own
 * process on loopback, configured through the HTTP API like an operator would.
 */
describe("the whole path, end to end", () => {
  let w: WholePath;
  const dest = { successDestination: { type: 1, id: 10 }, failureDestination: { type: 3, id: 20 } };

  beforeAll(async () => {
    w = await startWholePath();
    const put = async (path: string, body: unknown) => {
      const r = await w.api("PUT", `/v1/tenants/acme${path}`, body);
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    };
    const cache = { ttlSeconds: 60, negativeTtlSeconds: 10, staleIfErrorSeconds: 300 };
    await put("/connectors/hook", { kind: "webhook", url: `${w.crmUrl}/u/e2e/contract/by-id`, cache, timeoutMs: 800 });
    await put("/connectors/hook-short", { kind: "webhook", url: `${w.crmUrl}/u/e2e/contract/by-id`, cache: { ...cache, ttlSeconds: 1 }, timeoutMs: 800 });
    await put("/connectors/plans", {
      kind: "rest",
      url: `${w.crmUrl}/u/e2e/rest/found/{idContact}`,
      recordPath: "data.customer",
      rules: [
        { when: { path: "plan", op: "eq", value: "gold" }, destination: "1,3" },
        { when: { path: "plan", op: "eq", value: "bronze" }, destination: "2,4" },
      ],
      cache,
    });
    await put("/nodes/plain", { name: "plain", interaction: "none", expectedLength: 4, attempts: 2, timeoutSeconds: 2, ...dest });
    await put("/nodes/vip", { name: "vip", interaction: "crm_true_false", connector: "hook", expectedLength: 4, timeoutSeconds: 2, ...dest });
    await put("/nodes/route", { name: "route", interaction: "crm_destination", connector: "plans", timeoutSeconds: 2, ...dest });
    await put("/nodes/by-hook", { name: "by-hook", interaction: "crm_destination", connector: "hook", timeoutSeconds: 2, ...dest });
    await put("/nodes/short", { name: "short", interaction: "crm_destination", connector: "hook-short", timeoutSeconds: 2, ...dest });
  }, 90_000);
  afterAll(() => w?.close(), 30_000);

  it("none: a valid id goes to the success destination with the customer id attached", async () => {
    const landed = await w.call("plain", "4321");
    expect(landed).toMatchObject({ state: "continued", context: "to-campaign", extension: "10" });
    expect(landed.vars).toMatchObject({ CUSTOMER_ID: "4321", CRM_BRIDGE_OUTCOME: "success", CRM_BRIDGE_DEST_TYPE: "1", CRM_BRIDGE_DEST_ID: "10" });
    expect(landed.vars.__OMLCODCLI ?? landed.vars.OMLCODCLI).toBe("4321");
  });

  it("crm_true_false: the CRM's true and false pick success and failure", async () => {
    expect(await w.call("vip", "1002")).toMatchObject({ context: "to-campaign", extension: "10", vars: { CRM_BRIDGE_OUTCOME: "success" } });
    const no = await w.call("vip", "1001");
    expect(no).toMatchObject({ context: "crm-bridge-route", extension: "3-20" });
    expect(no.vars.CRM_BRIDGE_OUTCOME).toBe("failure");
  });

  it("crm_destination: rules on the CRM record route gold and bronze customers", async () => {
    expect(await w.call("route", "5550#")).toMatchObject({ context: "to-campaign", extension: "3", vars: { CRM_BRIDGE_OUTCOME: "crm", CRM_BRIDGE_DEST_TYPE: "1", CRM_BRIDGE_DEST_ID: "3", CUSTOMER_ID: "5550" } });
    expect(await w.call("route", "5558#")).toMatchObject({ context: "crm-bridge-route", extension: "2-4" });
  });

  it("cache: the second call for an id is a HIT in the decision log", async () => {
    await w.call("by-hook", "7777#");
    await w.call("by-hook", "7777#");
    let rows: Array<{ maskedId: string; cache: string }> = [];
    for (let i = 0; i < 50; i++) {
      rows = ((await (await w.api("GET", "/v1/tenants/acme/decisions?node=by-hook")).json()) as { decisions: typeof rows }).decisions;
      if (rows.length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows.slice(0, 2).map((r) => [r.maskedId, r.cache])).toEqual([
      ["**77", "HIT"],
      ["**77", "MISS"],
    ]);
  });

  it("a CRM outage is served from stale where there is something stale, else the failure destination", async () => {
    expect(await w.call("short", "2227#")).toMatchObject({ context: "crm-bridge-route", extension: "3-7" });
    await new Promise((r) => setTimeout(r, 1100)); // past the 1 s fresh window
    await fetch(`${w.crmUrl}/_outage?on=1`);
    try {
      const stale = await w.call("short", "2227#");
      expect(stale).toMatchObject({ context: "crm-bridge-route", extension: "3-7", vars: { CRM_BRIDGE_DEST_TYPE: "3", CRM_BRIDGE_DEST_ID: "7" } });
      const nothing = await w.call("short", "3337#");
      expect(nothing).toMatchObject({ context: "crm-bridge-route", extension: "3-20" });
      expect(nothing.vars.CRM_BRIDGE_OUTCOME).toBe("failure");
    } finally {
      await fetch(`${w.crmUrl}/_outage?on=0`);
    }
  });

  it("the agent logs no key and no full customer id", () => {
    const text = w.agent.output.join("\n");
    expect(text).toContain("4321".slice(-2));
    expect(text).not.toContain(w.tenant.agent);
    for (const id of ["4321", "5550", "7777", "2227", "3337"]) expect(text).not.toMatch(new RegExp(`\\b${id}\\b`));
  });
});
