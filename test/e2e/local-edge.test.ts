import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../scripts/seed.js";
import { startEdge, type StartedEdge } from "../support/start-edge.js";

describe("the edge under wrangler's local runtime (what npm start runs)", () => {
  let edge: StartedEdge;
  beforeAll(async () => {
    edge = await startEdge();
  }, 60_000);
  afterAll(() => edge?.close());

  it("seeds the demo tenant once and answers identify against the offline demo CRM", async () => {
    const first = await seedDemo(edge.url, edge.operatorToken, edge.stateDir);
    const again = await seedDemo(edge.url, edge.operatorToken, edge.stateDir);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.agentKey).toBe(first.agentKey);
    const keys = (await (await fetch(`${edge.url}/v1/tenants/demo/keys`, { headers: { authorization: `Bearer ${first.adminKey}` } })).json()) as { keys: unknown[] };
    expect(keys.keys).toHaveLength(2);

    const ask = (node: string, id: string) =>
      fetch(`${edge.url}/v1/tenants/demo/nodes/${node}/identify?key=${first.agentKey}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "OMniLeads" },
        body: `idContact=${id}`,
      });
    const gold = await ask("vip-routing", "12340");
    expect(await gold.json()).toEqual({ status: "ok", destination: "1,3" });
    expect(gold.headers.get("x-cache")).toBe("MISS");
    const goldAgain = await ask("vip-routing", "12340");
    expect(goldAgain.headers.get("x-cache")).toBe("HIT");
    expect(await (await ask("payments", "12345")).json()).toEqual({ status: "ok", destination: "false" });
    expect(await (await ask("payments", "12349")).json()).toEqual({ status: "ok", destination: "false" });
    expect(await (await ask("plain", "12345")).json()).toEqual({ status: "ok", destination: "true" });
  });
});
