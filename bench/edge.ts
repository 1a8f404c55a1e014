import { readdirSync, readFileSync } from "node:fs";
import autocannon from "autocannon";
import { startFakeCrm } from "../test/support/fake-crm.js";
import { startEdge } from "../test/support/start-edge.js";
import { seedBenchTenant } from "./local-edge.js";
import { percentile, round, type BenchOptions, type Figure } from "./figures.js";

/**
 * Edge figures, all from one run on one local workerd:
 * - floor: GET /health, a bare Hono route of the same app (same runtime, same middleware stack);
 * - identify HIT (webhook connector, entry cached) against that floor;
 * - identify MISS against a loopback CRM that answers at once; its overhead is identify's
 *   latency minus the CRM's own latency measured by the same client in the same run;
 * - memory under a burst of large CRM replies: workerd's RSS while 100 concurrent misses meet a
 *   CRM answering 1 MiB each, against the same process's idle RSS just before.
 */

/** RSS in MB of every workerd process under this one (wrangler runs workerd as a child). Linux /proc only. */
export function workerdRssMb(): number {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      comm.set(Number(d), stat.slice(stat.indexOf("(") + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let kb = 0;
  let found = 0;
  for (const [pid, name] of comm) {
    if (name !== "workerd" || !mine(pid)) continue;
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (!m) continue;
    kb += Number(m[1]);
    found++;
  }
  if (!found) throw new Error("no workerd process found under this one");
  return kb / 1024;
}
async function load(url: string, opts: BenchOptions, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const result = await autocannon({
    url,
    method: (init.method ?? "GET") as "GET",
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
    connections: 8,
    duration: opts.quick ? 3 : 10,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench load on ${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Sequential requests: latency without queueing; also what each answer says the CRM took. */
async function latencies(n: number, send: (i: number) => Promise<Response>, crmTimes?: number[], workerOverhead?: number[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await send(i);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    out.push(performance.now() - t);
    const crm = /crm;dur=(\d+)/.exec(res.headers.get("server-timing") ?? "");
    if (crmTimes && crm) crmTimes.push(Number(crm[1]));
    const total = /total;dur=(\d+)/.exec(res.headers.get("server-timing") ?? "");
    if (workerOverhead && crm && total) workerOverhead.push(Number(total[1]) - Number(crm[1]));
  }
  return out;
}

export async function runEdgeBench(opts: BenchOptions): Promise<Figure[]> {
  const crm = await startFakeCrm();
  const edge = await startEdge();
  try {
    const { put, agentKey: agent } = await seedBenchTenant(edge, "bench");
    const crmUrl = `${crm.url}/u/bench/contract/true`;
    await put("/v1/tenants/bench/connectors/crm", { kind: "webhook", url: crmUrl, cache: { ttlSeconds: 3600, negativeTtlSeconds: 10, staleIfErrorSeconds: 0 } });
    await put("/v1/tenants/bench/nodes/n", { name: "n", interaction: "crm_true_false", connector: "crm", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } });
    const identifyUrl = `${edge.url}/v1/tenants/bench/nodes/n/identify`;
    const headers = { authorization: `Bearer ${agent}`, "content-type": "application/x-www-form-urlencoded", "user-agent": "OMniLeads" };
    const ask = (id: string) => fetch(identifyUrl, { method: "POST", headers, body: `idContact=${id}` });
    await (await ask("12345")).arrayBuffer(); // warm the HIT entry

    const floor = await load(`${edge.url}/health`, opts);
    const hit = await load(identifyUrl, opts, { method: "POST", headers, body: "idContact=12345" });

    const n = opts.quick ? 300 : 2000;
    await latencies(50, () => fetch(crmUrl, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "idContact=1" }));
    const crmOwn = await latencies(n, (i) => fetch(crmUrl, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `idContact=${i}` }));
    const base = 10_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
    const missCrm: number[] = [];
    const missInWorker: number[] = [];
    const miss = await latencies(n, (i) => ask(String(base + i)), missCrm, missInWorker);
    // Per call: what the caller waited minus what the edge waited for the CRM (its Server-Timing).
    const perCallOverhead = miss.map((m, i) => m - (missCrm[i] ?? 0));
    const hitSeq = await latencies(n, () => ask("12345"));

    // A CRM answering 1 MiB records (sent in two halves 300 ms apart, so the burst overlaps).
    await put("/v1/tenants/bench/connectors/big", { kind: "rest", url: `${crm.url}/u/bench-big/rest/big-1024/{idContact}`, recordPath: "data.customer", timeoutMs: 10_000, cache: { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 } });
    await put("/v1/tenants/bench/nodes/big", { name: "big", interaction: "crm_true_false", connector: "big", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } });
    const askBig = (id: string) => fetch(`${edge.url}/v1/tenants/bench/nodes/big/identify`, { method: "POST", headers, body: `idContact=${id}` });
    await (await askBig("1")).arrayBuffer();
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = workerdRssMb();
    let peakRss = idleRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, workerdRssMb())), 20);
    const burstBase = 30_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
    const answers = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const res = await askBig(String(burstBase + i));
        const body = (await res.json()) as { status?: string; destination?: string };
        return res.status === 200 && (body.status === "ok" || (body.status === "fail" && body.destination === "false" && res.headers.has("x-bridge-reason")));
      }),
    );
    clearInterval(sampler);
    peakRss = Math.max(peakRss, workerdRssMb());
    return [
      { name: "edge.floor.rps", value: round(floor.rps), unit: "req/s" },
      { name: "edge.floor.p50_ms", value: floor.p50, unit: "ms" },
      { name: "edge.floor.p99_ms", value: floor.p99, unit: "ms" },
      { name: "edge.identify.hit.rps", value: round(hit.rps), unit: "req/s", baseline: "edge.floor.rps", ratio: round(hit.rps / floor.rps, 3) },
      { name: "edge.identify.hit.p50_ms", value: hit.p50, unit: "ms" },
      { name: "edge.identify.hit.p99_ms", value: hit.p99, unit: "ms" },
      { name: "edge.identify.hit.seq_p99_ms", value: round(percentile(hitSeq, 99)), unit: "ms" },
      { name: "edge.crm.own_p99_ms", value: round(percentile(crmOwn, 99)), unit: "ms" },
      { name: "edge.identify.miss.p50_ms", value: round(percentile(miss, 50)), unit: "ms" },
      { name: "edge.identify.miss.p99_ms", value: round(percentile(miss, 99)), unit: "ms", baseline: "edge.floor.p99_ms", ratio: round(percentile(miss, 99) / floor.p99, 3) },
      { name: "edge.identify.miss.overhead_p99_ms", value: round(percentile(perCallOverhead, 99)), unit: "ms" },
      { name: "edge.identify.miss.overhead_p50_ms", value: round(percentile(perCallOverhead, 50)), unit: "ms" },
      // Inside the worker (its Server-Timing total minus crm): what production adds, without the local dev proxy hop.
      { name: "edge.identify.miss.worker_overhead_p99_ms", value: round(percentile(missInWorker, 99)), unit: "ms" },
      { name: "edge.identify.miss.worker_overhead_p50_ms", value: round(percentile(missInWorker, 50)), unit: "ms" },
      // The same overhead judged from outside: MISS p99 minus the CRM's own p99 from the same client.
      { name: "edge.identify.miss.minus_crm_p99_ms", value: round(percentile(miss, 99) - percentile(crmOwn, 99)), unit: "ms", baseline: "edge.crm.own_p99_ms" },
      // HIT latency at the same sequential pace as the MISS sample: the local runtime's share of any figure.
      { name: "edge.identify.hit.seq_p50_ms", value: round(percentile(hitSeq, 50)), unit: "ms" },
      { name: "edge.identify.large_reply.idle_rss_mb", value: round(idleRss, 1), unit: "MB" },
      { name: "edge.identify.large_reply.peak_rss_mb", value: round(peakRss, 1), unit: "MB", baseline: "edge.identify.large_reply.idle_rss_mb", ratio: round(peakRss / idleRss, 3) },
      // Every answer of the burst is a contract answer (ok, or fail with a reason): none is an error page or a dropped call.
      { name: "edge.identify.large_reply.valid_answers_pct", value: round((100 * answers.filter(Boolean).length) / answers.length, 1), unit: "%" },
    ];
  } finally {
    await edge.close();
    await crm.close();
  }
}
