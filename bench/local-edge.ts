import type { StartedEdge } from "../test/support/start-edge.js";

export type BenchTenant = {
  /** PUT (POST for `/keys`) a JSON body as the tenant's admin; throws on a non-2xx answer. */
  put(path: string, body: unknown): Promise<unknown>;
  /** An agent key of the tenant, for identify calls. */
  agentKey: string;
};

/** Creates `tenant` on a local edge with the operator token, plus one admin and one agent key. */
export async function seedBenchTenant(edge: StartedEdge, tenant: string): Promise<BenchTenant> {
  const send = async (path: string, body: unknown, token: string): Promise<unknown> => {
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const r = await fetch(`${edge.url}${path}`, { method: path.endsWith("/keys") ? "POST" : "PUT", headers, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const newKey = async (role: "admin" | "agent"): Promise<string> => ((await send(`/v1/tenants/${tenant}/keys`, { role }, edge.operatorToken)) as { key: string }).key;
  await send(`/v1/tenants/${tenant}`, { name: tenant }, edge.operatorToken);
  const admin = await newKey("admin");
  const agentKey = await newKey("agent");
  return { put: (path, body) => send(path, body, admin), agentKey };
}
