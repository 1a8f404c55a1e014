import { startFakeCrm } from "../test/support/fake-crm.js";
import { startEdge } from "../test/support/start-edge.js";
import { workerdRssMb } from "./edge.js";
import { round, type BenchOptions, type Figure } from "./figures.js";

/**
 * Many tenants on one local workerd (issue 14, docs/scale.md): 10, 100 and 1,000 tenants, each
 * with three connectors chained on one node, called with a Zipf (s = 1) mix over tenants and
 * over 50 ids per tenant. Every tenant is called once before the measured phase (a cold copy
 * is a config change, not steady state); then the worker's own binding counters (LOCAL_MODE,
 * worker/local/counters.ts) give D1 statements, KV operations and Durable Object calls per
 * identify, and /proc gives workerd's RSS.
 */
const SIZES = [10, 100, 1000];
const IDS_PER_TENANT = 50;
const CONCURRENCY = 8;
/** One path for every tenant's connectors (each told apart by its query), so the fake CRM's count for it is every CRM call. */
const CRM_PATH = "/u/tenants-bench/contract/true";

/** Ranks 0..n-1 drawn with probability ∝ 1/(rank+1). */
function zipf(n: number): () => number {
  const cdf: number[] = [];
  let sum = 0;
  for (let r = 1; r <= n; r++) cdf.push((sum += 1 / r));
  return () => {
    const x = Math.random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

type Counters = { requests: number; d1: number; kv: number; durableObjects: number; byMethod: Record<string, number>; d1Batches: number; versionChecks: number; contexts: number; versions: number };

export async function runTenantsBench(opts: BenchOptions): Promise<Figure[]> {
  const crm = await startFakeCrm();
  const edge = await startEdge();
  const figures: Figure[] = [];
  try {
    const op = { authorization: `Bearer ${edge.operatorToken}`, "content-type": "application/json" };
    const send = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
      const r = await fetch(`${edge.url}${path}`, { method, headers, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<{ key: string }>;
    };
    const tenants: Array<{ id: string; agent: string }> = [];
    const addTenant = async (i: number) => {
      const id = `tb-${i}`;
      await send("PUT", `/v1/tenants/${id}`, { name: id }, op);
      const admin = (await send("POST", `/v1/tenants/${id}/keys`, { role: "admin" }, op)).key;
      const agent = (await send("POST", `/v1/tenants/${id}/keys`, { role: "agent" }, op)).key;
      const adm = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
      for (const c of ["c1", "c2", "c3"]) {
        await send("PUT", `/v1/tenants/${id}/connectors/${c}`, { kind: "webhook", url: `${crm.url}${CRM_PATH}?connector=${id}-${c}`, auth: { type: "bearer", token: `s-${id}-${c}` }, cache: { ttlSeconds: 3600, negativeTtlSeconds: 10, staleIfErrorSeconds: 0 } }, adm);
      }
      await send("PUT", `/v1/tenants/${id}/nodes/n`, { name: "n", interaction: "crm_true_false", connector: ["c1", "c2", "c3"], successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } }, adm);
      return { id, agent };
    };
    const ask = async (t: { id: string; agent: string }, idContact: string) => {
      const r = await fetch(`${edge.url}/v1/tenants/${t.id}/nodes/n/identify`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.agent}`, "content-type": "application/x-www-form-urlencoded" },
        body: `idContact=${idContact}`,
        // An identify answers within its deadline (1 s by default): one that does not is a fault to report, not to wait on.
        signal: AbortSignal.timeout(10_000),
      });
      if (r.status !== 200) throw new Error(`identify ${t.id}: ${r.status} ${(await r.text()).slice(0, 300)}`);
      await r.arrayBuffer();
    };
    const crmCalls = async () => ((await (await fetch(`${crm.url}/_calls?path=${CRM_PATH}`)).json()) as { count: number }).count;
    const counters = async (reset = false) => (await (await fetch(`${edge.url}/_local/counters`, { method: reset ? "DELETE" : "GET" })).json()) as Counters;

    const calls = opts.quick ? 2000 : 10_000;
    for (const size of SIZES) {
      for (let i = tenants.length; i < size; i += CONCURRENCY) {
        tenants.push(...(await Promise.all(Array.from({ length: Math.min(CONCURRENCY, size - i) }, (_, k) => addTenant(i + k)))));
      }
      // Warm: one call per tenant, so each isolate copy exists (a cold copy is a config change).
      for (let i = 0; i < size; i += CONCURRENCY) await Promise.all(tenants.slice(i, i + CONCURRENCY).map((t) => ask(t, "100000")));
      await new Promise((r) => setTimeout(r, 1200));
      const pickTenant = zipf(size);
      const pickId = zipf(IDS_PER_TENANT);
      await counters(true);
      const crmBefore = await crmCalls();
      const started = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < calls) {
            next++;
            await ask(tenants[pickTenant()]!, String(100000 + pickId()));
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      // The last flush window's decisions go out after the answers.
      await new Promise((r) => setTimeout(r, 300));
      const c = await counters();
      const n = c.requests;
      // KV and quota leases follow the misses, and the same calls over more (tenant, id) pairs miss
      // more: per CRM call is where those two are read for flatness.
      const misses = (await crmCalls()) - crmBefore;
      const p = `tenants.${size}`;
      figures.push(
        { name: `${p}.identifies`, value: n, unit: "calls" },
        { name: `${p}.identify_rps`, value: round(n / seconds), unit: "req/s" },
        { name: `${p}.d1_queries_per_identify`, value: round(c.d1 / n, 4), unit: "queries" },
        { name: `${p}.crm_calls_per_identify`, value: round(misses / n, 4), unit: "calls" },
        { name: `${p}.kv_ops_per_identify`, value: round(c.kv / n, 4), unit: "ops" },
        { name: `${p}.kv_writes_per_crm_call`, value: round((c.byMethod["CACHE.put"] ?? 0) / Math.max(1, misses), 4), unit: "ops" },
        { name: `${p}.leases_per_crm_call`, value: round((c.byMethod["CIRCUIT.lease"] ?? 0) / Math.max(1, misses), 4), unit: "calls" },
        { name: `${p}.do_calls_per_identify`, value: round(c.durableObjects / n, 4), unit: "calls" },
        { name: `${p}.version_checks_per_identify`, value: round(c.versionChecks / n, 4), unit: "calls" },
        // Where the Durable Object and KV figures come from: binding and method, e.g. TENANT_HOME.append, CACHE.get.
        ...Object.entries(c.byMethod)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => ({ name: `${p}.${k.startsWith("CACHE.") ? "kv" : "do"}.${k}_per_identify`, value: round(v / n, 4), unit: "calls" })),
        // Local workerd runs every Durable Object in the same process, so this RSS includes one
        // TenantHome per tenant; the worker's own copies are the two counts below (bounded maps).
        { name: `${p}.workerd_rss_mb`, value: round(workerdRssMb(), 1), unit: "MB" },
        { name: `${p}.isolate_context_copies`, value: c.contexts, unit: "entries" },
        { name: `${p}.isolate_version_entries`, value: c.versions, unit: "entries" },
      );
    }
    const at = (size: number, what: string) => figures.find((f) => f.name === `tenants.${size}.${what}`)!.value;
    figures.push({ name: "tenants.rss_1000_vs_10", value: at(1000, "workerd_rss_mb"), unit: "MB", baseline: "tenants.10.workerd_rss_mb", ratio: round(at(1000, "workerd_rss_mb") / at(10, "workerd_rss_mb"), 3) });
    return figures;
  } finally {
    await edge.close();
    await crm.close();
  }
}
