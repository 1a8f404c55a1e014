import { describe, expect, it } from "vitest";
import { call, crmPath, identify, json, newTenant, putConnector, putNode } from "./helpers.js";

type Err = { error: { code: string; message: string } };

async function tenantWithNode(expectedLength?: number) {
  const t = await newTenant();
  await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "by-id") });
  await putNode(t, "n", { interaction: "crm_destination", connector: "crm", ...(expectedLength ? { expectedLength } : {}) });
  return t;
}

function post(t: { id: string; agent: string }, body: BodyInit, type?: string, node = "n") {
  return call("POST", `/v1/tenants/${t.id}/nodes/${node}/identify`, { token: t.agent, raw: body, headers: type ? { "content-type": type } : {} });
}

describe("identify request encodings (SPEC 2a)", () => {
  it("reads idContact from the CURL() form, JSON, a JSON number and text/plain holding either", async () => {
    const t = await tenantWithNode();
    const cases: Array<[BodyInit, string | undefined]> = [
      ["idContact=12346", "application/x-www-form-urlencoded"],
      ["idContact=12346", "application/x-www-form-urlencoded; charset=utf-8"],
      [JSON.stringify({ idContact: "12346" }), "application/json"],
      [JSON.stringify({ idContact: 12346 }), "application/json"],
      ["idContact=12346", "text/plain"],
      [' {"idContact":"12346"} ', "text/plain;charset=UTF-8"],
      ["idContact=12346", undefined],
    ];
    for (const [body, type] of cases) {
      const res = await post(t, body, type);
      expect(res.status, `${type}: ${String(body)}`).toBe(200);
      expect(await res.json()).toEqual({ status: "ok", destination: "true" });
    }
    const form = new FormData();
    form.set("idContact", "12347");
    expect(await (await post(t, form)).json()).toEqual({ status: "ok", destination: "3,7" });
  });

  it("answers 400 for bad JSON or no readable idContact, 415 for other types, 413 for oversize bodies", async () => {
    const t = await tenantWithNode();
    const expectErr = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect((await json<Err>(res)).error.code).toBe(code);
    };
    await expectErr(await post(t, "{nope", "application/json"), 400, "bad_json");
    await expectErr(await post(t, "{}", "application/json"), 400, "missing_id_contact");
    await expectErr(await post(t, "[1,2]", "application/json"), 400, "missing_id_contact");
    await expectErr(await post(t, '{"idContact":{"a":1}}', "application/json"), 400, "missing_id_contact");
    await expectErr(await post(t, "other=1", "application/x-www-form-urlencoded"), 400, "missing_id_contact");
    await expectErr(await post(t, "", "text/plain"), 400, "missing_id_contact");
    await expectErr(await post(t, "<idContact>1</idContact>", "application/xml"), 415, "unsupported_media_type");
    await expectErr(await post(t, "idContact=1&pad=" + "9".repeat(20_000), "application/x-www-form-urlencoded"), 413, "body_too_large");
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode("x".repeat(1024)));
        c.close();
      },
    });
    await expectErr(await post(t, stream, "text/plain"), 413, "body_too_large");
  });

  it("an id that is not 1–30 digits is a 200 fail with invalid_id, and the CRM is never called", async () => {
    const t = await newTenant();
    const url = crmPath("contract", "true");
    await putConnector(t, "crm", { kind: "webhook", url });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    for (const bad of ["12a45", "", " 123", "1".repeat(31), "1".repeat(33), "١٢٣", "12 34", "-1", "1e5"]) {
      const res = await identify(t, "n", bad);
      expect(res.status, bad).toBe(200);
      expect(await res.json()).toEqual({ status: "fail", destination: "false" });
      expect(res.headers.get("x-bridge-reason")).toBe("invalid_id");
      expect(res.headers.get("x-cache")).toBe("BYPASS");
    }
    const ok = await identify(t, "n", "1".repeat(30));
    expect(await ok.json()).toEqual({ status: "ok", destination: "true" });
    const seen = await (await fetch(`${new URL(url).origin}/_calls?path=${encodeURIComponent(new URL(url).pathname)}`)).json();
    expect(seen).toMatchObject({ count: 1 });
  });

  it("unknown node is 404; a node's expectedLength is enforced; `none` nodes answer without a CRM", async () => {
    const t = await tenantWithNode(5);
    expect((await identify(t, "nope", "12345")).status).toBe(404);
    const short = await identify(t, "n", "1234");
    expect(await short.json()).toEqual({ status: "fail", destination: "false" });
    expect(short.headers.get("x-bridge-reason")).toBe("invalid_length");
    await putNode(t, "plain", { interaction: "none", expectedLength: 4 });
    expect(await (await identify(t, "plain", "1234")).json()).toEqual({ status: "ok", destination: "true" });
    expect(await (await identify(t, "plain", "12345")).json()).toEqual({ status: "ok", destination: "false" });
    expect((await identify(t, "plain", "1234")).headers.get("x-cache")).toBe("BYPASS");
  });

  it("admin bodies: wrong type 415, bad JSON 400, schema errors name the field, oversize 413", async () => {
    const t = await newTenant();
    const put = (raw: string, type = "application/json") => call("PUT", `/v1/tenants/${t.id}/nodes/n`, { token: t.admin, raw, headers: { "content-type": type } });
    expect((await put("{}", "text/plain")).status).toBe(415);
    expect((await put("{bad")).status).toBe(400);
    const res = await put(JSON.stringify({ name: "x", interaction: "crm_true_false", successDestination: { type: 13, id: 1 }, failureDestination: { type: 1, id: 0 } }));
    expect(res.status).toBe(400);
    const msg = (await json<Err>(res)).error.message;
    expect(msg).toContain("successDestination.type");
    expect(msg).toContain("failureDestination.id");
    expect(msg).toContain("connector");
    expect((await put(JSON.stringify({ name: "x".repeat(70_000) }))).status).toBe(413);
    const unknownConn = await put(JSON.stringify({ name: "x", interaction: "crm_true_false", connector: "ghost", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } }));
    expect((await json<Err>(unknownConn)).error.message).toContain("ghost");
  });
});
