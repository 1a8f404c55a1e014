import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.js";

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>> };

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document generated from the schemas, covering every SPEC 3 path", async () => {
    const res = await createApp().request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const want: Array<[string, string]> = [
      ["get", "/health"],
      ["get", "/v1/tenants"],
      ["put", "/v1/tenants/{tenant}"],
      ["delete", "/v1/tenants/{tenant}"],
      ["post", "/v1/admin/reseal"],
      ["post", "/v1/tenants/{tenant}/keys"],
      ["delete", "/v1/tenants/{tenant}/keys/{id}"],
      ["put", "/v1/tenants/{tenant}/connectors/{connector}"],
      ["get", "/v1/tenants/{tenant}/connectors"],
      ["get", "/v1/tenants/{tenant}/connectors/{connector}"],
      ["delete", "/v1/tenants/{tenant}/connectors/{connector}"],
      ["put", "/v1/tenants/{tenant}/nodes/{node}"],
      ["get", "/v1/tenants/{tenant}/nodes/{node}"],
      ["delete", "/v1/tenants/{tenant}/nodes/{node}"],
      ["get", "/v1/tenants/{tenant}/nodes"],
      ["post", "/v1/tenants/{tenant}/nodes/{node}/identify"],
      ["delete", "/v1/tenants/{tenant}/cache"],
      ["get", "/v1/tenants/{tenant}/decisions"],
    ];
    for (const [method, path] of want) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    // The node body is the shared zod schema: its enum and bounds appear as generated, not hand-written.
    const nodeBody = JSON.stringify(doc.paths["/v1/tenants/{tenant}/nodes/{node}"]!.put!.requestBody);
    expect(nodeBody).toContain("crm_destination");
    expect(nodeBody).toContain("caller_number_then_dtmf");
    expect(nodeBody).toContain("confirmCaller");
    expect(nodeBody).toContain("defaultCountry");
    const identifyBody = JSON.stringify(doc.paths["/v1/tenants/{tenant}/nodes/{node}/identify"]!.post!.requestBody);
    expect(identifyBody).toContain("callerNumber");
    expect(nodeBody).toContain("expectedLength");
    const identify = JSON.stringify(doc.paths["/v1/tenants/{tenant}/nodes/{node}/identify"]!.post!.requestBody);
    expect(identify).toContain("application/x-www-form-urlencoded");
    expect(identify).toContain("idContact");
  });
});
