import { startFakeCrm } from "../test/support/fake-crm.js";
import { startEdge } from "../test/support/start-edge.js";
import { seedBenchTenant } from "./local-edge.js";
import { percentile, round, type BenchOptions, type Figure } from "./figures.js";

/**
 * The quota guard (issue 11) under a Monday-morning burst: a connector whose CRM allows 4 calls
 * per second (the fake enforces it and answers 429 past it), asked 40 times a second (10x) for
 * 30 s (quick: 10 s) by two nodes, open loop, with a repeat-caller mix: 131 distinct ids, a few
 * of them calling again and again. Every call carries X-Deadline-Ms.
 * Then the fast path: sequential misses on a connector far under its quota, where the guard's
 * own time is Server-Timing's quota entry.
 */
const QUOTA = 4;
const RATE = QUOTA * 10;
const DEADLINE_MS = 1000;
/** deadlineMargin(1000) in worker/services/identify.ts: the worker aims to be done this long before the deadline. */
const EDGE_MARGIN_MS = 100;

/** 131 ids; a fifth of the calls come from 5 frequent callers, the rest spread over all. */
function callerMix(n: number): string[] {
  const ids = Array.from({ length: 131 }, (_, i) => String(5_550_000 + i * 7));
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  return Array.from({ length: n }, () => (rnd() < 0.2 ? ids[Math.floor(rnd() * 5)]! : ids[Math.floor(rnd() * ids.length)]!));
}

export async function runQuotaBench(opts: BenchOptions): Promise<Figure[]> {
  const crm = await startFakeCrm();
  const edge = await startEdge();
  try {
    const { put, agentKey: agent } = await seedBenchTenant(edge, "qbench");
    const limited = `${crm.url}/u/qbench/rest/quota-${QUOTA}-1000-found/{idContact}`;
    // A short TTL so that repeat callers need the CRM again within the run; stale answers are allowed for 5 minutes.
    const cache = { ttlSeconds: 5, negativeTtlSeconds: 5, staleIfErrorSeconds: 300 };
    await put("/v1/tenants/qbench/connectors/crm", { kind: "rest", url: limited, recordPath: "data.customer", quota: { requests: QUOTA, perSeconds: 1 }, cache, rules: [], default: "true", notFound: "false" });
    const fast = `${crm.url}/u/qbench-fast/rest/found/{idContact}`;
    await put("/v1/tenants/qbench/connectors/fast", { kind: "rest", url: fast, recordPath: "data.customer", quota: { requests: 100_000, perSeconds: 1 }, cache: { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 }, rules: [], default: "true", notFound: "false" });
    for (const node of ["n1", "n2"]) await put(`/v1/tenants/qbench/nodes/${node}`, { name: node, interaction: "crm_true_false", connector: "crm", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } });
    await put("/v1/tenants/qbench/nodes/fast", { name: "fast", interaction: "crm_true_false", connector: "fast", successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 } });
    const headers = { authorization: `Bearer ${agent}`, "content-type": "application/x-www-form-urlencoded", "x-deadline-ms": String(DEADLINE_MS) };
    const ask = (node: string, id: string) => fetch(`${edge.url}/v1/tenants/qbench/nodes/${node}/identify`, { method: "POST", headers, body: `idContact=${id}` });

    const seconds = opts.quick ? 10 : 30;
    const ids = callerMix(RATE * seconds);
    // `total`: the worker's own time (Server-Timing), to tell a late answer of the edge from a late trip.
    type Answer = { ms: number; total: number; cache: string; reason: string; ok: boolean };
    const answers: Promise<Answer>[] = [];
    const started = performance.now();
    for (let i = 0; i < ids.length; i++) {
      // Open loop: calls arrive on schedule whether or not earlier ones were answered.
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = performance.now();
      answers.push(
        ask(i % 2 ? "n1" : "n2", ids[i]!).then(async (res) => {
          const body = await res.text();
          if (!res.ok) console.error("NOT OK", res.status, body.slice(0, 200), res.headers.get("server-timing"));
          const total = Number(/total;dur=(\d+)/.exec(res.headers.get("server-timing") ?? "")?.[1] ?? NaN);
          return { ms: performance.now() - t, total, cache: res.headers.get("x-cache") ?? "", reason: res.headers.get("x-bridge-reason") ?? "", ok: res.ok };
        }),
      );
    }
    const done = await Promise.all(answers);
    const quota = (await (await fetch(`${crm.url}/_quota?prefix=${encodeURIComponent("/u/qbench")}`)).json()) as { admitted: number; throttled: number; maxInWindow: number };
    const pct = (n: number) => round((100 * n) / done.length, 1);

    const n = opts.quick ? 300 : 1000;
    const guardMs: number[] = [];
    const overhead: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await ask("fast", String(20_000_000 + i));
      await res.arrayBuffer();
      const timing = res.headers.get("server-timing") ?? "";
      const q = /quota;dur=(\d+)/.exec(timing);
      const c = /crm;dur=(\d+)/.exec(timing);
      const total = /total;dur=(\d+)/.exec(timing);
      if (q) guardMs.push(Number(q[1]));
      if (c && total) overhead.push(Number(total[1]) - Number(c[1]));
    }
    return [
      { name: "edge.quota.demand_rps", value: RATE, unit: "req/s" },
      { name: "edge.quota.crm_quota_rps", value: QUOTA, unit: "req/s" },
      { name: "edge.quota.calls", value: done.length, unit: "calls" },
      { name: "edge.quota.crm_calls", value: quota.admitted, unit: "calls" },
      { name: "edge.quota.crm_max_in_window", value: quota.maxInWindow, unit: "calls/s" },
      { name: "edge.quota.crm_429s", value: quota.throttled, unit: "count" },
      { name: "edge.quota.answered_within_deadline_pct", value: pct(done.filter((a) => a.ok && a.ms <= DEADLINE_MS).length), unit: "%" },
      { name: "edge.quota.hit_pct", value: pct(done.filter((a) => a.cache === "HIT").length), unit: "%" },
      { name: "edge.quota.stale_pct", value: pct(done.filter((a) => a.cache === "STALE").length), unit: "%" },
      { name: "edge.quota.shed_pct", value: pct(done.filter((a) => a.reason === "crm_quota").length), unit: "%" },
      { name: "edge.quota.failure_destination_pct", value: pct(done.filter((a) => a.reason !== "" && a.reason !== "not_found" && a.cache !== "STALE").length), unit: "%" },
      { name: "edge.quota.p99_ms", value: round(percentile(done.map((a) => a.ms), 99)), unit: "ms" },
      { name: "edge.quota.max_ms", value: round(Math.max(...done.map((a) => a.ms))), unit: "ms" },
      // Inside the worker: the edge aims to be done deadlineMargin before X-Deadline-Ms.
      { name: "edge.quota.worker_total_p99_ms", value: round(percentile(done.map((a) => a.total), 99)), unit: "ms" },
      { name: "edge.quota.worker_total_max_ms", value: round(Math.max(...done.filter((a) => a.ok).map((a) => a.total))), unit: "ms" },
      { name: "edge.quota.http_errors", value: done.filter((a) => !a.ok).length, unit: "count" },
      { name: "edge.quota.worker_late_pct", value: pct(done.filter((a) => a.ok && !(a.total <= DEADLINE_MS - EDGE_MARGIN_MS)).length), unit: "%" },
      // Fast path: a connector far under its quota; the guard's own time inside the worker.
      { name: "edge.quota.fast_path_guard_p99_ms", value: round(percentile(guardMs, 99)), unit: "ms" },
      { name: "edge.quota.fast_path_guard_p50_ms", value: round(percentile(guardMs, 50)), unit: "ms" },
      { name: "edge.quota.fast_path_worker_overhead_p99_ms", value: round(percentile(overhead, 99)), unit: "ms", baseline: "edge.identify.miss.worker_overhead_p99_ms" },
    ];
  } finally {
    await edge.close();
    await crm.close();
  }
}
