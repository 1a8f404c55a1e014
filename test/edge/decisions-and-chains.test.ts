import { describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { call, crmPath, identify, newTenant, OPERATOR, putConnector, putNode, waitForDecisions } from "./helpers.js";

type Decision = { node: string; maskedId: string; outcome: string; reason: string | null; cache: string; ms: number; steps: Array<{ connector: string; result: string; reason?: string; matches?: number; rule?: unknown }> };

const decisions = (t: { id: string; admin: string }, query = "", count = 1) => waitForDecisions<Decision>(t, count, query);

const restConn = (scenario: string, extra: Record<string, unknown> = {}) => ({
  kind: "rest",
  url: crmPath("rest", scenario) + "/{idContact}",
  recordPath: "data.customer",
  timeoutMs: 300,
  rules: [
    { when: { path: "plan", op: "eq", value: "gold" }, destination: "1,3" },
    { when: { path: "plan", op: "eq", value: "bronze" }, destination: "1,4" },
  ],
  default: "true",
  notFound: "false",
  ...extra,
});

describe("modes (SPEC 2 and 6.4)", () => {
  it("crm_true_false: only true is success; a destination or false is failure", async () => {
    const t = await newTenant();
    for (const [s, want] of [
      ["true", "true"],
      ["false", "false"],
      ["dest-3-4", "false"],
    ]) {
      await putConnector(t, `c-${s}`, { kind: "webhook", url: crmPath("contract", s!) });
      await putNode(t, `n-${s}`, { interaction: "crm_true_false", connector: `c-${s}` });
      expect(await (await identify(t, `n-${s}`, "1")).json(), s).toEqual({ status: "ok", destination: want });
    }
  });

  it("crm_destination: rules on a rest record route gold and bronze; notFound applies", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", restConn("found"));
    await putNode(t, "n", { interaction: "crm_destination", connector: "crm" });
    expect(await (await identify(t, "n", "12340")).json()).toEqual({ status: "ok", destination: "1,3" });
    expect(await (await identify(t, "n", "12345")).json()).toEqual({ status: "ok", destination: "1,4" });
    await putConnector(t, "gone", restConn("notfound"));
    await putNode(t, "m", { interaction: "crm_destination", connector: "gone" });
    expect(await (await identify(t, "m", "12345")).json()).toEqual({ status: "ok", destination: "false" });
  });
});

describe("connector chains (SPEC 4)", () => {
  it("asks in order, the first record found decides, failures are skipped and logged", async () => {
    const t = await newTenant();
    await putConnector(t, "broken", restConn("http-503"));
    await putConnector(t, "empty", restConn("notfound"));
    await putConnector(t, "main", restConn("several"));
    await putNode(t, "n", { interaction: "crm_destination", connector: ["broken", "empty", "main"] });
    const res = await identify(t, "n", "12340");
    expect(await res.json()).toEqual({ status: "ok", destination: "1,3" });
    const [d] = await decisions(t);
    expect(d!.steps.map((s) => [s.connector, s.result, s.reason])).toEqual([
      ["broken", "error", "crm_http_503"],
      ["empty", "notFound", undefined],
      ["main", "found", undefined],
    ]);
    expect(d!.steps[2]!.matches).toBe(2);
  });

  it("none found: notFound of the last that answered; none answered: the failure reason", async () => {
    const t = await newTenant();
    await putConnector(t, "empty", restConn("notfound", { notFound: "5,1" }));
    await putConnector(t, "broken", restConn("http-500"));
    await putNode(t, "a", { interaction: "crm_destination", connector: ["empty", "broken"] });
    expect(await (await identify(t, "a", "1")).json()).toEqual({ status: "ok", destination: "5,1" });
    await putNode(t, "b", { interaction: "crm_destination", connector: ["broken"] });
    const res = await identify(t, "b", "1");
    expect(await res.json()).toEqual({ status: "fail", destination: "false" });
    expect(res.headers.get("x-bridge-reason")).toBe("crm_http_500");
  });
});

describe("decision log", () => {
  it("keeps time, node, masked id, outcome, reason, cache and ms, newest first, filterable", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "by-id") });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    await identify(t, "n", "5550123456");
    await identify(t, "n", "5550123451");
    const list = await decisions(t, "", 2);
    expect(list.map((d) => d.maskedId)).toEqual(["********51", "********56"]);
    expect(list[0]).toMatchObject({ node: "n", outcome: "failure", cache: "MISS" });
    expect(list[1]).toMatchObject({ outcome: "success" });
    expect(typeof list[0]!.ms).toBe("number");
    const onlySuccess = await decisions(t, "?outcome=success");
    expect(onlySuccess.every((d) => d.outcome === "success")).toBe(true);
    expect((await call("GET", `/v1/tenants/${t.id}/decisions?limit=0`, { token: t.admin })).status).toBe(400);
    expect(JSON.stringify(list)).not.toContain("5550123456");
  });
});

describe("secrets", () => {
  it("are write-only, encrypted at rest, and never in any answer or log line", async () => {
    const SECRET = "sk-live-DO-NOT-LEAK-9f8e7d";
    const logs: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void logs.push(a.map(String).join(" "))),
    );
    const answers: string[] = [];
    const keep = async (r: Response) => {
      answers.push(JSON.stringify([...r.headers]) + (await r.clone().text()));
      return r;
    };
    try {
      const t = await newTenant();
      await keep(await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "http-401"), auth: { type: "bearer", token: SECRET } }));
      await keep(await putConnector(t, "rest", { ...restConn("hang"), headers: { "X-Api-Key": SECRET }, auth: { type: "basic", username: "u", password: SECRET } }));
      await putNode(t, "n", { interaction: "crm_true_false", connector: ["crm", "rest"] });
      await keep(await identify(t, "n", "123456789"));
      await keep(await call("GET", `/v1/tenants/${t.id}/connectors`, { token: t.admin }));
      const one = await keep(await call("GET", `/v1/tenants/${t.id}/connectors/rest`, { token: t.admin }));
      expect(await one.json()).toMatchObject({ headers: { "X-Api-Key": "***" }, auth: { password: "***" } });
      await keep(await call("PUT", `/v1/tenants/${t.id}/connectors/bad`, { token: t.admin, body: { kind: "webhook", url: "nope", auth: { type: "bearer", token: SECRET } } }));
      await waitForDecisions(t);
      await keep(await call("GET", `/v1/tenants/${t.id}/decisions`, { token: t.admin }));
      await keep(await call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "x" } }));

      // "***" in a PUT keeps the stored secret: the CRM still gets the real one.
      const url = crmPath("contract", "true");
      await putConnector(t, "keep", { kind: "webhook", url, auth: { type: "bearer", token: SECRET } });
      await putConnector(t, "keep", { kind: "webhook", url, auth: { type: "bearer", token: "***" } });
      await putNode(t, "k", { interaction: "crm_true_false", connector: "keep" });
      await identify(t, "k", "1");
      const seen = (await (await fetch(`${new URL(url).origin}/_calls?path=${encodeURIComponent(new URL(url).pathname)}`)).json()) as { last: { headers: Record<string, string> } };
      expect(seen.last.headers.authorization).toBe(`Bearer ${SECRET}`);

      const rows = await env.DB.prepare("SELECT config, secrets FROM connectors WHERE tenant_id = ?").bind(t.id).all<{ config: string; secrets: string }>();
      expect(rows.results.length).toBe(3);
      for (const r of rows.results) expect(r.config + r.secrets).not.toContain(SECRET);
      const keys = await env.DB.prepare("SELECT secret_hash FROM api_keys WHERE tenant_id = ?").bind(t.id).all<{ secret_hash: string }>();
      for (const k of keys.results) expect(t.admin + t.agent).not.toContain(k.secret_hash);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    for (const line of [...answers, ...logs]) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain("123456789");
    }
    expect(answers.length).toBeGreaterThan(5);
  });
});
