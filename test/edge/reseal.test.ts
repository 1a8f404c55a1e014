import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.js";
import type { Env } from "../../worker/env.js";
import { decrypt } from "../../worker/security/crypto.js";
import { crmCalls, crmPath, json, newTenant, OPERATOR } from "./helpers.js";

// Key A is the test runtime's ENCRYPTION_KEY; B and C are other 32-byte keys.
const A = env.ENCRYPTION_KEY!;
const B = btoa(String.fromCharCode(...new Uint8Array(32).fill(0xb)));
const C = btoa(String.fromCharCode(...new Uint8Array(32).fill(0xc)));
const app = createApp();

/** The same worker with other secrets, as after `wrangler secret put`. */
async function withKeys(keys: { ENCRYPTION_KEY: string; ENCRYPTION_KEY_PREVIOUS?: string | undefined }, method: string, path: string, init: { token: string; body?: unknown; form?: string }) {
  const headers: Record<string, string> = { authorization: `Bearer ${init.token}` };
  let body: string | undefined;
  if (init.form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    headers["user-agent"] = "OMniLeads";
    body = init.form;
  } else if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  const ctx = createExecutionContext();
  const e: Env = { ...env, ENCRYPTION_KEY: keys.ENCRYPTION_KEY, ...(keys.ENCRYPTION_KEY_PREVIOUS ? { ENCRYPTION_KEY_PREVIOUS: keys.ENCRYPTION_KEY_PREVIOUS } : {}) };
  const res = await app.fetch(new Request(`http://edge.test${path}`, { method, headers, body }), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function tenantWithSecret(keys: { ENCRYPTION_KEY: string }) {
  const t = await newTenant("reseal");
  const url = crmPath("contract", "true");
  const put = (path: string, body: unknown) => withKeys(keys, "PUT", `/v1/tenants/${t.id}/${path}`, { token: t.admin, body });
  expect((await put("connectors/crm", { kind: "webhook", url, auth: { type: "bearer", token: "crm-secret-91ab" } })).status).toBe(201);
  expect((await put("nodes/n", { name: "n", interaction: "crm_true_false", connector: "crm", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } })).status).toBe(201);
  return { ...t, url };
}

let nextId = 1000;
/** An identify with a fresh id (no cache), and whether the CRM got the stored secret. */
async function identifyUnder(keys: { ENCRYPTION_KEY: string; ENCRYPTION_KEY_PREVIOUS?: string | undefined }, t: { id: string; agent: string; url: string }) {
  const before = (await crmCalls(t.url)).count;
  const res = await withKeys(keys, "POST", `/v1/tenants/${t.id}/nodes/n/identify`, { token: t.agent, form: `idContact=${nextId++}` });
  const calls = await crmCalls(t.url);
  const secretSent = calls.count > before && calls.last?.headers.authorization === "Bearer crm-secret-91ab";
  return { status: res.status, body: await res.text(), secretSent };
}

const sealedRow = (t: { id: string }) => env.DB.prepare("SELECT secrets FROM connectors WHERE tenant_id = ? AND id = 'crm'").bind(t.id).first<string>("secrets");

describe("ENCRYPTION_KEY rotation", () => {
  it("old secrets work under the new key with the previous one kept, reseal moves them, then the new key alone works", async () => {
    const t = await tenantWithSecret({ ENCRYPTION_KEY: A });
    const underA = await sealedRow(t);
    expect(await decrypt(A, underA!, `connector:${t.id}:crm`)).toContain("crm-secret-91ab");
    // No identify under A first: the isolate keeps unsealed rows, and this call must really unseal.

    // Step 1 of the runbook: ENCRYPTION_KEY=B, ENCRYPTION_KEY_PREVIOUS=A. Calls keep working.
    const rotating = { ENCRYPTION_KEY: B, ENCRYPTION_KEY_PREVIOUS: A };
    const during = await identifyUnder(rotating, t);
    expect(during).toMatchObject({ status: 200, secretSent: true });
    expect(JSON.parse(during.body)).toEqual({ status: "ok", destination: "true" });

    // Step 2: reseal. Only the operator may run it.
    expect((await withKeys(rotating, "POST", "/v1/admin/reseal", { token: t.admin })).status).toBe(403);
    const res = await withKeys(rotating, "POST", "/v1/admin/reseal", { token: OPERATOR });
    expect(res.status).toBe(200);
    const report = await json<{ resealed: number; alreadyCurrent: number; unreadable: unknown[] }>(res);
    expect(report.resealed).toBeGreaterThanOrEqual(1);
    expect(report.unreadable).not.toContainEqual({ tenant: t.id, connector: "crm" });
    expect(JSON.stringify(report)).not.toContain("crm-secret");
    const underB = await sealedRow(t);
    expect(underB).not.toBe(underA);

    // Step 3: ENCRYPTION_KEY_PREVIOUS removed. B alone opens the secret; A no longer does.
    expect(await identifyUnder({ ENCRYPTION_KEY: B }, t)).toMatchObject({ status: 200, secretSent: true });
    // (Checked on the row itself: the isolate's copy of an unsealed row outlives a key change that, deployed, starts new isolates.)
    await expect(decrypt(A, underB!, `connector:${t.id}:crm`)).rejects.toThrow();
    expect(await decrypt(B, underB!, `connector:${t.id}:crm`)).toContain("crm-secret-91ab");

    // Running it again changes nothing.
    const again = await json<{ resealed: number; alreadyCurrent: number }>(await withKeys({ ENCRYPTION_KEY: B }, "POST", "/v1/admin/reseal", { token: OPERATOR }));
    expect(again.resealed).toBe(0);
    expect(again.alreadyCurrent).toBeGreaterThanOrEqual(1);
    expect(await sealedRow(t)).toBe(underB);
  });

  it("during the rotation a PUT keeping the stored secret (\"***\") reads it with the previous key and seals it under the new one", async () => {
    const t = await tenantWithSecret({ ENCRYPTION_KEY: A });
    const keep = await withKeys({ ENCRYPTION_KEY: B, ENCRYPTION_KEY_PREVIOUS: A }, "PUT", `/v1/tenants/${t.id}/connectors/crm`, {
      token: t.admin,
      body: { kind: "webhook", url: t.url, auth: { type: "bearer", token: "***" } },
    });
    expect(keep.status).toBe(200);
    expect(await identifyUnder({ ENCRYPTION_KEY: B }, t)).toMatchObject({ status: 200, secretSent: true });
  });

  it("a secret neither key opens is reported by tenant and connector, and left as it is", async () => {
    const t = await tenantWithSecret({ ENCRYPTION_KEY: C });
    const before = await sealedRow(t);
    const report = await json<{ unreadable: unknown[] }>(await withKeys({ ENCRYPTION_KEY: B, ENCRYPTION_KEY_PREVIOUS: A }, "POST", "/v1/admin/reseal", { token: OPERATOR }));
    expect(report.unreadable).toContainEqual({ tenant: t.id, connector: "crm" });
    expect(await sealedRow(t)).toBe(before);
  });
});
