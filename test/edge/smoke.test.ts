import { describe, expect, it } from "vitest";
import { call, crmPath, identify, json, newTenant, putConnector, putNode } from "./helpers.js";

describe("smoke", () => {
  it("health answers with a request id", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
  it("identify through a webhook", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(t, "n1", { interaction: "crm_true_false", connector: "crm" });
    const res = await identify(t, "n1", "12345");
    expect(await json(res)).toEqual({ status: "ok", destination: "true" });
    expect(res.headers.get("x-cache")).toBe("MISS");
  });
});

describe("openapi in workerd", () => {
  it("serves the generated document", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect((await res.json()) as { openapi: string }).toMatchObject({ openapi: "3.1.0" });
  });
});
