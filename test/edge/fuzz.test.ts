import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, crmPath, newTenant, OPERATOR, putConnector, putNode } from "./helpers.js";

const SECRET = "fuzz-crm-secret-5b1e0c";

/** Bodies that go wrong in every way a client can get them wrong. */
const bodies = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.json(),
  fc.constantFrom("idContact=12345", "idContact=", "idContact=%ZZ", "idContact=1&idContact=2", '{"idContact":"12345"', "{}", "[]", "null", "\u0000\u0001"),
  fc.integer({ min: 1, max: 3 }).map((n) => "x".repeat(n * 40_000)),
);

const methods = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
const types = fc.constantFrom(undefined, "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "application/xml", "application/json; charset=utf-16", "*/*", "garbage");

describe("HTTP fuzz over every endpoint", () => {
  it("no 5xx, no stack trace, no secret in any answer; /health still answers", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "by-id"), auth: { type: "bearer", token: SECRET }, timeoutMs: 300 });
    await putNode(t, "n", { interaction: "crm_destination", connector: "crm" });
    const paths = fc.oneof(
      fc.constantFrom(
        "/health",
        "/openapi.json",
        `/v1/tenants/${t.id}`,
        `/v1/tenants/${t.id}/keys`,
        `/v1/tenants/${t.id}/keys/x`,
        `/v1/tenants/${t.id}/connectors`,
        `/v1/tenants/${t.id}/connectors/crm`,
        `/v1/tenants/${t.id}/connectors/crm/test`,
        `/v1/tenants/${t.id}/nodes`,
        `/v1/tenants/${t.id}/nodes/n`,
        `/v1/tenants/${t.id}/nodes/n/identify`,
        `/v1/tenants/${t.id}/cache?connector=crm&idContact=1`,
        `/v1/tenants/${t.id}/decisions?limit=5`,
        `/v1/tenants/${t.id}/../../health`,
        `/v1/tenants/%2e%2e/nodes`,
        `/v1/tenants/${t.id}/nodes/%00/identify`,
        `/v1/tenants/${t.id}//nodes/n`,
        `/ui/login`,
      ),
      fc.string().map((s) => `/v1/tenants/${encodeURIComponent(s)}/nodes/${encodeURIComponent(s)}/identify`),
      fc.webPath().map((p) => p || "/"),
    );
    const tokens = fc.constantFrom(undefined, t.admin, t.agent, OPERATOR, "x", t.admin.slice(0, -1), "cbk_" + "z".repeat(60));
    const seen: string[] = [];
    await fc.assert(
      fc.asyncProperty(methods, paths, tokens, types, bodies, fc.boolean(), async (method, path, token, type, body, asStream) => {
        const headers: Record<string, string> = { "cf-connecting-ip": "192.0.2.77" };
        if (type) headers["content-type"] = type;
        if (Math.random() < 0.3) headers["x-deadline-ms"] = String(Math.floor(Math.random() * 2000) - 100);
        let raw: BodyInit | undefined;
        if (body !== undefined && method !== "GET" && method !== "HEAD") {
          const text = typeof body === "string" ? body : JSON.stringify(body);
          raw = asStream
            ? new ReadableStream({
                start(c) {
                  c.enqueue(new TextEncoder().encode(text.slice(0, 50)));
                  // A body that breaks off halfway.
                  c.error(new Error("truncated"));
                },
              })
            : text;
        }
        const res = await call(method, path, { token, headers, ...(raw === undefined ? {} : { raw }) });
        const text = await res.text();
        seen.push(text);
        expect(res.status, `${method} ${path} → ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(text).not.toMatch(/\bat [\w.<>]+ \(|Error: |stack/i);
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(OPERATOR);
        expect(res.headers.get("x-request-id")).toBeTruthy();
      }),
      { numRuns: 250, seed: 20261125 },
    );
    expect(seen.length).toBe(250);
    expect((await call("GET", "/health")).status).toBe(200);
  });
});
