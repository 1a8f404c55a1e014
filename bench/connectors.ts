import { startFakeCrms } from "../test/support/fake-crms/index.js";
import type { Log } from "../test/support/fake-crms/common.js";
import { crmFixtures } from "../test/support/fake-crms/fixtures.js";
import { startEdge } from "../test/support/start-edge.js";
import { percentile, round, type BenchOptions, type Figure } from "./figures.js";

/**
 * Per CRM connector: the MISS overhead of identify over its fake CRM answering at once.
 * The CRM's own time is measured by replaying, from the same client, exactly the requests the
 * connector made (read back from the fake's log), so "ours minus the CRM's" is the edge's own
 * work: config load, token cache (warm, as in steady state), escaping, parsing, rules, KV.
 */

const REPLAYED_HEADERS = ["authorization", "content-type", "accept", "x-api-token", "odata-version", "odata-maxversion"];

async function timed(send: () => Promise<Response>): Promise<number> {
  const t = performance.now();
  const res = await send();
  await res.arrayBuffer();
  if (!res.ok && res.status !== 204) throw new Error(`HTTP ${res.status}`);
  return performance.now() - t;
}

export async function runConnectorBench(opts: BenchOptions): Promise<Figure[]> {
  const crms = await startFakeCrms();
  const edge = await startEdge();
  const figures: Figure[] = [];
  try {
    const json = { "content-type": "application/json" };
    const send = async (method: string, path: string, token: string, body?: unknown) => {
      const r = await fetch(`${edge.url}${path}`, { method, headers: { ...json, authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<{ key: string }>;
    };
    await send("PUT", "/v1/tenants/bench-crm", edge.operatorToken, { name: "bench-crm" });
    const admin = (await send("POST", "/v1/tenants/bench-crm/keys", edge.operatorToken, { role: "admin" })).key;
    const agent = (await send("POST", "/v1/tenants/bench-crm/keys", edge.operatorToken, { role: "agent" })).key;
    const n = opts.quick ? 100 : 1000;

    for (const fx of Object.values(crmFixtures)) {
      const unique = `bench-${fx.kind}-${Date.now()}`;
      const base = `${crms.url}/u/${unique}/${fx.kind}/found`;
      const rules = { rules: [{ when: { path: fx.planPath, op: "eq", value: "gold" }, destination: "1,3" }], default: "1,4", notFound: "false" };
      await send("PUT", `/v1/tenants/bench-crm/connectors/${fx.kind}`, admin, { ...fx.config(base), ...rules, cache: { ttlSeconds: 3600, negativeTtlSeconds: 10, staleIfErrorSeconds: 0 } });
      await send("PUT", `/v1/tenants/bench-crm/nodes/${fx.kind}`, admin, {
        name: fx.kind,
        interaction: "crm_destination",
        connector: fx.kind,
        successDestination: { type: 1, id: 1 },
        failureDestination: { type: 1, id: 2 },
      });
      const url = `${edge.url}/v1/tenants/bench-crm/nodes/${fx.kind}/identify`;
      const headers = { authorization: `Bearer ${agent}`, "content-type": "application/x-www-form-urlencoded", "user-agent": "OMniLeads" };
      const first = 20_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
      // Warm-up also fetches and caches the OAuth token, so the figures are the token-cached path.
      for (let i = 0; i < 20; i++) await timed(() => fetch(url, { method: "POST", headers, body: `idContact=${first + i}` }));

      const log = (await (await fetch(`${crms.url}/_log?u=${unique}`)).json()) as Log;
      if (log.violations.length) throw new Error(`${fx.kind}: ${log.violations[0]}`);
      // One lookup's data requests (not the token request): the last ones the fake saw.
      const perLookup = fx.kind === "pipedrive" ? 2 : 1;
      const replay = log.requests.slice(-perLookup).map((r) => {
        const h: Record<string, string> = {};
        for (const k of REPLAYED_HEADERS) if (r.headers[k] !== undefined) h[k] = r.headers[k]!;
        const q = new URLSearchParams(r.query).toString();
        return { url: `${base}${r.path}${q ? `?${q}` : ""}`, init: { method: r.method, headers: h, ...(r.method === "GET" ? {} : { body: r.body }) } };
      });

      const own: number[] = [];
      const miss: number[] = [];
      // Inside the worker: its Server-Timing total minus the time it waited for the CRM.
      const inWorker: number[] = [];
      // Interleaved, so a slow moment of the machine hits both samples alike.
      for (let i = 0; i < n; i++) {
        let crmTime = 0;
        for (const r of replay) crmTime += await timed(() => fetch(r.url, r.init));
        own.push(crmTime);
        const t = performance.now();
        const res = await fetch(url, { method: "POST", headers, body: `idContact=${first + 100 + i}` });
        await res.arrayBuffer();
        miss.push(performance.now() - t);
        const timing = res.headers.get("server-timing") ?? "";
        const total = /total;dur=(\d+)/.exec(timing);
        const crm = /crm;dur=(\d+)/.exec(timing);
        if (total && crm) inWorker.push(Number(total[1]) - Number(crm[1]));
      }
      const ownP99 = percentile(own, 99);
      figures.push(
        { name: `edge.connector.${fx.kind}.crm_own_p99_ms`, value: round(ownP99), unit: "ms" },
        { name: `edge.connector.${fx.kind}.miss_p99_ms`, value: round(percentile(miss, 99)), unit: "ms" },
        { name: `edge.connector.${fx.kind}.miss_overhead_p99_ms`, value: round(percentile(miss, 99) - ownP99), unit: "ms", baseline: `edge.connector.${fx.kind}.crm_own_p99_ms` },
        // The typical cost beside the tail: p99 on a shared machine is mostly scheduling noise.
        { name: `edge.connector.${fx.kind}.worker_overhead_p99_ms`, value: round(percentile(inWorker, 99)), unit: "ms" },
        { name: `edge.connector.${fx.kind}.miss_overhead_p50_ms`, value: round(percentile(miss, 50) - percentile(own, 50)), unit: "ms" },
      );
    }
    return figures;
  } finally {
    await edge.close();
    await crms.close();
  }
}
