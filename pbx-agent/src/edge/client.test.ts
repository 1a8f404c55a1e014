import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedUrl, startFakeEdge, type FakeEdge } from "../../../test/agent/support/fake-edge.js";
import { startFakeCrm, type FakeCrm } from "../../../test/support/fake-crm.js";
import { deadlineHeaderMs, edgeRequestId, fetchNode, lookupCustomer, type LookupTarget } from "./client.js";

let edge: FakeEdge;
let crm: FakeCrm;
beforeAll(async () => {
  edge = await startFakeEdge();
  crm = await startFakeCrm();
});
afterAll(async () => {
  await edge.close();
  await crm.close();
});

const target = (node: string): LookupTarget => ({ kind: "edge", baseUrl: edge.url, key: edge.key, tenant: "acme", node });
const soon = (ms = 1000) => ({ deadlineAt: Date.now() + ms });

describe("lookupCustomer against the edge", () => {
  it("sends the exact OMniLeads form POST, the key and X-Deadline-Ms", async () => {
    edge.setIdentify("acme", "n1", { reply: { status: "ok", destination: "true" } });
    const r = await lookupCustomer(target("n1"), "12345", soon(2000));
    expect(r).toMatchObject({ ok: true, reply: { status: "ok", destination: "true" } });
    const seen = edge.requests.at(-1)!;
    expect(seen.method).toBe("POST");
    expect(seen.path).toBe("/v1/tenants/acme/nodes/n1/identify");
    expect(seen.body).toBe("idContact=12345");
    expect(seen.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(seen.headers["user-agent"]).toBe("OMniLeads");
    expect(seen.headers.authorization).toBe(`Bearer ${edge.key}`);
    const deadline = Number(seen.headers["x-deadline-ms"]);
    expect(deadline).toBeGreaterThan(1500);
    expect(deadline).toBeLessThanOrEqual(2000);
    expect(seen.headers["x-request-id"]).toBeUndefined();
  });

  it("a caller-number lookup: callerNumber in the same form encoding, same headers, the matched idContact back", async () => {
    edge.setIdentify("acme", "n1", { reply: { status: "ok", destination: "true" } });
    edge.callers.set("+34911234567", { idContact: "5550123" });
    const r = await lookupCustomer(target("n1"), { callerNumber: "+34911234567" }, soon(2000));
    expect(r).toMatchObject({ ok: true, reply: { status: "ok", destination: "true", idContact: "5550123" } });
    const seen = edge.requests.at(-1)!;
    expect(seen.body).toBe("callerNumber=%2B34911234567");
    expect(seen.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Number(seen.headers["x-deadline-ms"])).toBeGreaterThan(1500);
    const unknown = await lookupCustomer(target("n1"), { callerNumber: "+34911999999" }, soon(2000));
    expect(unknown).toMatchObject({ ok: true, reply: { status: "ok", destination: "false" } });
    expect(unknown.ok && unknown.reply.idContact).toBeUndefined();
    // Why a number named nobody travels in X-Bridge-Reason: a shared line is not an unknown number.
    edge.callers.set("+34911000111", "ambiguous");
    expect(await lookupCustomer(target("n1"), { callerNumber: "+34911000111" }, soon(2000))).toMatchObject({ ok: true, reply: { status: "fail" }, bridgeReason: "ambiguous" });
  });

  it("sends the call's id as X-Request-Id in the shape the edge keeps (so wrangler tail can filter on it)", async () => {
    edge.setIdentify("acme", "n1", { reply: { status: "ok", destination: "true" } });
    const r = await lookupCustomer(target("n1"), "12345", { ...soon(2000), requestId: "1733050000.123" });
    expect(edge.requests.at(-1)!.headers["x-request-id"]).toBe("1733050000-123");
    // The id the edge answered with is kept: it is the requestId of the edge's log line for this call.
    expect(r.requestId).toBe("1733050000-123");
    expect(edgeRequestId("a".repeat(300))).toHaveLength(255);
  });

  it.each([
    ["false", { reply: { status: "ok", destination: "false" } }, { ok: true }],
    ["X,Y with spaces", { reply: { status: "ok", destination: " 3 , 7 " } }, { ok: true, reply: { status: "ok", destination: "3,7" } }],
    ["fail", { reply: { status: "fail", destination: "false" } }, { ok: true, reply: { status: "fail" } }],
    ["500", { status: 500 }, { ok: false, reason: "edge_http_500" }],
    ["garbage", { reply: "<html>" }, { ok: false, reason: "edge_bad_reply" }],
    ["bad destination", { reply: { status: "ok", destination: "13,1" } }, { ok: false, reason: "edge_bad_reply" }],
  ] as const)("%s", async (name, behaviour, expected) => {
    edge.setIdentify("acme", `c-${name.length}`, behaviour);
    expect(await lookupCustomer(target(`c-${name.length}`), "1", soon())).toMatchObject(expected);
  });

  it("cuts a hanging edge at the deadline, within a few ms", async () => {
    edge.setIdentify("acme", "hang", { hang: true });
    const start = Date.now();
    const r = await lookupCustomer(target("hang"), "1", { deadlineAt: start + 150 });
    const late = Date.now() - (start + 150);
    expect(r).toMatchObject({ ok: false, reason: "edge_timeout" });
    expect(late).toBeGreaterThanOrEqual(-2);
    expect(late).toBeLessThan(100);
  });

  it("an answer slower than the deadline is a timeout", async () => {
    edge.setIdentify("acme", "slow", { reply: { status: "ok", destination: "true" }, delayMs: 300 });
    expect(await lookupCustomer(target("slow"), "1", soon(100))).toMatchObject({ ok: false, reason: "edge_timeout" });
  });

  it("connection refused is edge_unreachable, at once", async () => {
    const url = await refusedUrl();
    const r = await lookupCustomer({ kind: "edge", baseUrl: url, key: "k", tenant: "acme", node: "n" }, "1", soon(2000));
    expect(r).toMatchObject({ ok: false, reason: "edge_unreachable" });
    expect(r.ms).toBeLessThan(1000);
  });

  it("the call's signal (hang-up) aborts the request at once", async () => {
    edge.setIdentify("acme", "hang2", { hang: true });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("hangup")), 30);
    const start = Date.now();
    const r = await lookupCustomer(target("hang2"), "1", { deadlineAt: start + 5000, signal: ac.signal });
    expect(r).toMatchObject({ ok: false, reason: "aborted" });
    expect(Date.now() - start).toBeLessThan(500);
  });

  it("a deadline already past never sends anything", async () => {
    const before = edge.requests.length;
    expect(await lookupCustomer(target("n1"), "1", { deadlineAt: Date.now() - 1 })).toMatchObject({ ok: false, reason: "edge_timeout" });
    expect(edge.requests.length).toBe(before);
  });

  it("X-Deadline-Ms is always positive and never above what is left", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 60_000 }), (ms) => deadlineHeaderMs(ms) >= 1 && deadlineHeaderMs(ms) <= ms));
  });
});

describe("lookupCustomer straight to an OMniLeads CRM (NODES_FILE url)", () => {
  it.each([
    ["true", { ok: true, reply: { destination: "true" } }],
    ["dest-3-7", { ok: true, reply: { destination: "3,7" } }],
    ["http-500", { ok: false, reason: "edge_http_500" }],
    ["garbage", { ok: false, reason: "edge_bad_reply" }],
    ["shape", { ok: false, reason: "edge_bad_reply" }],
    ["huge", { ok: false, reason: "edge_reply_too_large" }],
  ] as const)("%s", async (scenario, expected) => {
    const url = `${crm.url}/u/client-${scenario}/contract/${scenario}`;
    expect(await lookupCustomer({ kind: "url", url }, "4321", soon(3000))).toMatchObject(expected);
  });

  it("sends no key and no deadline header, as OMniLeads does", async () => {
    const url = `${crm.url}/u/client-plain/contract/true`;
    await lookupCustomer({ kind: "url", url }, "4321", { ...soon(), requestId: "1733050000.123" });
    const seen = (await (await fetch(`${crm.url}/_calls?path=${encodeURIComponent("/u/client-plain/contract/true")}`)).json()) as {
      last: { headers: Record<string, string>; body: string };
    };
    expect(seen.last.body).toBe("idContact=4321");
    expect(seen.last.headers["user-agent"]).toBe("OMniLeads");
    expect(seen.last.headers.authorization).toBeUndefined();
    expect(seen.last.headers["x-deadline-ms"]).toBeUndefined();
    expect(seen.last.headers["x-request-id"]).toBeUndefined();
  });

  it("a hanging CRM is cut at the deadline", async () => {
    const start = Date.now();
    const r = await lookupCustomer({ kind: "url", url: `${crm.url}/u/client-hang/contract/hang` }, "1", { deadlineAt: start + 100 });
    expect(r).toMatchObject({ ok: false, reason: "edge_timeout" });
    expect(Date.now() - start).toBeLessThan(200);
  });
});

describe("fetchNode", () => {
  it("returns the parsed node, 404 as not_found, trouble as a reason", async () => {
    edge.setNode("acme", "plain", { name: "Plain", interaction: "none", successDestination: { type: 1, id: 3 }, failureDestination: { type: 5, id: 1 } });
    const ok = await fetchNode({ baseUrl: edge.url, key: edge.key }, "acme", "plain", 1000);
    expect(ok).toMatchObject({ ok: true, node: { id: "plain", interaction: "none", timeoutSeconds: 5, attempts: 1 } });
    expect(await fetchNode({ baseUrl: edge.url, key: edge.key }, "acme", "nope", 1000)).toEqual({ ok: false, reason: "not_found" });
    // Fields a newer edge may add are ignored; a bad known field is not.
    edge.setNode("acme", "newer", { name: "Newer", interaction: "none", successDestination: { type: 1, id: 3 }, failureDestination: { type: 5, id: 1 }, updatedAt: "2026-01-01" } as never);
    expect(await fetchNode({ baseUrl: edge.url, key: edge.key }, "acme", "newer", 1000)).toMatchObject({ ok: true, node: { name: "Newer" } });
    edge.setNode("acme", "broken", { name: "Broken", interaction: "none", successDestination: { type: 13, id: 3 }, failureDestination: { type: 5, id: 1 } });
    expect(await fetchNode({ baseUrl: edge.url, key: edge.key }, "acme", "broken", 1000)).toEqual({ ok: false, reason: "edge_bad_reply" });
    expect(await fetchNode({ baseUrl: edge.url, key: "wrong" }, "acme", "plain", 1000)).toEqual({ ok: false, reason: "edge_http_401" });
    expect(await fetchNode({ baseUrl: await refusedUrl(), key: "k" }, "acme", "plain", 1000)).toEqual({ ok: false, reason: "edge_unreachable" });
  });
});
