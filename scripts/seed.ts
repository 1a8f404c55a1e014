import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Seeded = { tenant: string; adminKey: string; agentKey: string; nodes: string[] };

async function api(edge: string, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${edge}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
}

async function must(res: Promise<Response>, what: string): Promise<Response> {
  const r = await res;
  if (!r.ok) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
  return r;
}

/**
 * The `demo` tenant: an admin and an agent key, two connectors against the offline demo CRM the
 * worker serves locally, and one node of each interaction. Idempotent: keys already issued (kept in
 * the state directory) are reused while they still work, everything else is create-or-replace.
 */
export async function seedDemo(edge: string, operatorToken: string, stateDir: string): Promise<Seeded & { created: boolean }> {
  const file = join(stateDir, "demo-keys.json");
  const tenant = "demo";
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Seeded;
    const check = await api(edge, saved.agentKey, "GET", `/v1/tenants/${tenant}/nodes`);
    if (check.ok) return { ...saved, created: false };
  }
  await must(api(edge, operatorToken, "PUT", `/v1/tenants/${tenant}`, { name: "Demo contact centre" }), "tenant");
  const admin = (await (await must(api(edge, operatorToken, "POST", `/v1/tenants/${tenant}/keys`, { role: "admin" }), "admin key")).json()) as { key: string };
  const agent = (await (await must(api(edge, operatorToken, "POST", `/v1/tenants/${tenant}/keys`, { role: "agent" }), "agent key")).json()) as { key: string };
  const crm = `${edge}/_demo-crm/customers/{idContact}`;
  await must(
    api(edge, admin.key, "PUT", `/v1/tenants/${tenant}/connectors/demo-payments`, {
      kind: "rest",
      url: crm,
      recordPath: "customer",
      rules: [{ when: { path: "paymentsUpToDate", op: "eq", value: false }, destination: "false" }],
      default: "true",
      notFound: "false",
    }),
    "connector demo-payments",
  );
  await must(
    api(edge, admin.key, "PUT", `/v1/tenants/${tenant}/connectors/demo-crm`, {
      kind: "rest",
      url: crm,
      recordPath: "customer",
      rules: [
        { when: { path: "plan", op: "eq", value: "gold" }, destination: "1,3" },
        { when: { path: "plan", op: "eq", value: "bronze" }, destination: "1,4" },
      ],
      default: "true",
      notFound: "false",
    }),
    "connector demo-crm",
  );
  const dest = { successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } };
  const nodes: Array<[string, Record<string, unknown>]> = [
    ["plain", { name: "Plain id (no CRM)", interaction: "none", expectedLength: 5, attempts: 3, ...dest }],
    ["payments", { name: "Payments up to date?", interaction: "crm_true_false", connector: "demo-payments", expectedLength: 5, attempts: 2, ...dest }],
    ["vip-routing", { name: "Route by plan", interaction: "crm_destination", connector: "demo-crm", attempts: 2, ...dest }],
  ];
  for (const [id, body] of nodes) await must(api(edge, admin.key, "PUT", `/v1/tenants/${tenant}/nodes/${id}`, body), `node ${id}`);
  const seeded: Seeded = { tenant, adminKey: admin.key, agentKey: agent.key, nodes: nodes.map(([id]) => id) };
  writeFileSync(file, JSON.stringify(seeded, null, 2), { mode: 0o600 });
  return { ...seeded, created: true };
}
