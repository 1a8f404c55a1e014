import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { DESTINATIONS, FAILURE, SUCCESS } from "../test/agent/support/rig.js";
import { startFakeEdge } from "../test/agent/support/fake-edge.js";
import { startFakeAsterisk } from "../test/fake-asterisk/index.js";
import { percentile, round, type BenchOptions, type Figure } from "./figures.js";

/**
 * The PBX agent under load: the real agent (`pbx-agent/src/main.ts`) in its own process, so its
 * memory and CPU are its own, driven by the fake Asterisk and an instant fake edge in this one.
 *   route:    last digit → routing command (`continue`), instant edge, modest concurrency.
 *   callerid: call answered → routing command for a node identifying by caller number, instant edge.
 *   hold:     N calls in flight at once (waiting for digits), then all finish: RSS per call, CPU per call, calls/s.
 *   deadline: an edge that never answers; lateness of the routing command past EDGE_TIMEOUT_MS after the last digit.
 */

const EDGE_TIMEOUT_MS = 500;

function procStat(pid: number): { rssKb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  // Fields after the command name: utime and stime are the 12th and 13th (clock ticks, 100 Hz on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { rssKb, cpuMs: ticks * 10 };
}

/** Settles the agent's heap before a memory reading: a few idle moments for the GC. */
const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runPool<T>(items: T[], concurrency: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}


export async function runAgentBench(opts: BenchOptions): Promise<Figure[]> {
  const asterisk = await startFakeAsterisk({ playbackMs: 150, record: false });
  const edge = await startFakeEdge();
  const dir = mkdtempSync(join(tmpdir(), "agent-bench-"));
  writeFileSync(join(dir, "destinations.json"), JSON.stringify(DESTINATIONS));
  const base = { audio: "sound:prompt", expectedLength: 6, successDestination: SUCCESS, failureDestination: FAILURE } as const;
  edge.setNode("bench", "fast", { ...base, name: "fast", interaction: "crm_true_false", connector: "c", timeoutSeconds: 10 });
  edge.setNode("bench", "hold", { ...base, name: "hold", interaction: "crm_true_false", connector: "c", timeoutSeconds: 60 });
  edge.setNode("bench", "never", { ...base, name: "never", interaction: "crm_true_false", connector: "c", timeoutSeconds: 10 });
  edge.setIdentify("bench", "fast", { reply: { status: "ok", destination: "true" } });
  edge.setIdentify("bench", "hold", { reply: { status: "ok", destination: "true" } });
  edge.setIdentify("bench", "never", { hang: true });
  // Issue 12: the caller's number identifies them; no prompt, no digits.
  edge.setNode("bench", "bynumber", { ...base, name: "bynumber", interaction: "crm_true_false", connector: "c", identifyBy: "caller_number" });
  edge.setIdentify("bench", "bynumber", { reply: { status: "ok", destination: "true" } });
  edge.callers.set("+34911234567", { idContact: "5550123" });

  // PlaybackFinished is not visible with recording off: follow it through the channel's prompt timer instead.
  const promptMs = 150;
  let child: ChildProcess | null = null;
  const agentSide: Record<string, number[]> = {};
  const figures: Figure[] = [];
  try {
    const extra = (process.env.AGENT_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
    // One core for the agent (the last one), as the target says; the drivers in this process use the rest.
    const cores = availableParallelism();
    const pin = existsSync("/usr/bin/taskset") && cores > 1 ? ["/usr/bin/taskset", "-c", String(cores - 1)] : [];
    // …and this process (fake Asterisk, fake edge, callers) off that core, so the two never queue behind each other.
    if (pin.length > 0) spawnSync("/usr/bin/taskset", ["-apc", `0-${cores - 2}`, String(process.pid)], { stdio: "ignore" });
    const argv = [...pin, process.execPath, ...extra, "--import", "tsx", join(process.cwd(), "pbx-agent/src/main.ts")];
    child = spawn(argv[0]!, argv.slice(1), {
      env: {
        PATH: process.env.PATH ?? "",
        ARI_URL: asterisk.url,
        ARI_USERNAME: asterisk.username,
        ARI_PASSWORD: asterisk.password,
        EDGE_URL: edge.url,
        EDGE_KEY: edge.key,
        EDGE_TIMEOUT_MS: String(EDGE_TIMEOUT_MS),
        DESTINATIONS_FILE: join(dir, "destinations.json"),
        STATE_DIR: join(dir, "state"),
        METRICS_PORT: "0",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    // The agent's own view of each call (its JSON log line): last digit received → routing command sent.
    let buffered = "";
    child.stdout!.on("data", (b: Buffer) => {
      buffered += b.toString();
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('"msg":"call"')) continue;
        const r = JSON.parse(line) as { node: string; timings: { inputEndToRouteMs: number | null; edgeMs: number | null } };
        if (r.timings.inputEndToRouteMs !== null) (agentSide[r.node] ??= []).push(r.timings.inputEndToRouteMs);
        if (r.timings.edgeMs !== null) (agentSide[`${r.node}.edge`] ??= []).push(r.timings.edgeMs);
        // The target is "5 ms plus the edge's time": the agent's share with the edge's taken out.
        if (r.timings.inputEndToRouteMs !== null && r.timings.edgeMs !== null) (agentSide[`${r.node}.own`] ??= []).push(r.timings.inputEndToRouteMs - r.timings.edgeMs);
      }
    });
    const pid = child.pid!;
    await asterisk.waitForApp(undefined, 20_000);

    /** One call: waits for the prompt to end, types `digits`, resolves with ms from the last digit to the routing command. */
    const call = async (node: string, digits: string, beforeDigits?: Promise<void>): Promise<number> => {
      const id = asterisk.placeCall({ args: ["bench", node] });
      await idle(promptMs + 20);
      await beforeDigits;
      await asterisk.sendDtmf(id, digits);
      const t0 = performance.now();
      await asterisk.waitFor(() => asterisk.channelState(id).state !== "inStasis", 70_000, `routing of ${id}`);
      const ms = performance.now() - t0;
      if (asterisk.channelState(id).state !== "continued") throw new Error(`call ${id} not routed: ${JSON.stringify(asterisk.channelState(id))}`);
      return ms;
    };

    // Warm-up: node configs fetched, JIT warm.
    await runPool(Array.from({ length: 50 }, (_, i) => i), 10, async (i) => void (await call("fast", String(100_000 + i))));

    // 1. Route latency with an instant edge.
    const routeN = opts.quick ? 300 : 2000;
    const route: number[] = [];
    await runPool(Array.from({ length: routeN }, (_, i) => i), 10, async (i) => void route.push(await call("fast", String(200_000 + i))));
    figures.push({ name: "agent.route_p50_ms", value: round(percentile(route, 50)), unit: "ms" });
    figures.push({ name: "agent.route_p99_ms", value: round(percentile(route, 99)), unit: "ms" });
    await idle(200);
    const internal = (agentSide.fast ?? []).slice(50);
    figures.push({ name: "agent.route_internal_p99_ms", value: round(percentile(internal, 99)), unit: "ms" });
    const own = (agentSide["fast.own"] ?? []).slice(50);
    figures.push({ name: "agent.route_own_p50_ms", value: round(percentile(own, 50)), unit: "ms" });
    figures.push({ name: "agent.route_own_p99_ms", value: round(percentile(own, 99)), unit: "ms" });
    if (process.env.AGENT_BENCH_DEBUG) {
      const edgeMs = (agentSide["fast.edge"] ?? []).slice(50);
      process.stderr.write(`internal p50 ${percentile(internal, 50)} p90 ${percentile(internal, 90)} p99 ${percentile(internal, 99)}; edge p50 ${percentile(edgeMs, 50)} p90 ${percentile(edgeMs, 90)} p99 ${percentile(edgeMs, 99)}\n`);
    }

    // 1b. Route by caller number, instant edge: call answered → routing command, on the agent's clock
    // (its inputEndToRouteMs: a number route's input ends at the answer). GET variable + edge + routing.
    const calleridN = opts.quick ? 300 : 2000;
    await runPool(Array.from({ length: calleridN + 50 }, (_, i) => i), 10, async () => {
      const id = asterisk.placeCall({ args: ["bench", "bynumber"], callerNumber: "+34911234567" });
      await asterisk.waitFor(() => asterisk.channelState(id).state !== "inStasis", 10_000, `routing of ${id}`);
      if (asterisk.channelState(id).state !== "continued") throw new Error(`call ${id} not routed: ${JSON.stringify(asterisk.channelState(id))}`);
    });
    await idle(200);
    const callerid = (agentSide.bynumber ?? []).slice(50);
    figures.push({ name: "agent.callerid_route_p50_ms", value: round(percentile(callerid, 50)), unit: "ms" });
    figures.push({ name: "agent.callerid_route_p99_ms", value: round(percentile(callerid, 99)), unit: "ms" });

    // 2. N calls in flight at once.
    const holdN = opts.quick ? 300 : 1000;
    await idle(1500);
    const idleStat = procStat(pid);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started = performance.now();
    const inflight = Array.from({ length: holdN }, (_, i) => call("hold", String(300_000 + i), gate));
    await idle(promptMs + 1500);
    const loaded = procStat(pid);
    const t1 = performance.now();
    release();
    const holdTimes = await Promise.allSettled(inflight);
    const allDone = performance.now();
    const ok = holdTimes.filter((r) => r.status === "fulfilled").length;
    const after = procStat(pid);
    figures.push({ name: "agent.concurrent_calls", value: ok, unit: "calls" });
    figures.push({ name: "agent.rss_per_call_kb", value: round(Math.max(0, loaded.rssKb - idleStat.rssKb) / holdN, 1), unit: "KiB" });
    figures.push({ name: "agent.cpu_per_call_ms", value: round((after.cpuMs - idleStat.cpuMs) / holdN, 3), unit: "ms" });
    figures.push({ name: "agent.calls_per_s", value: round(holdN / ((allDone - t1) / 1000), 0), unit: "calls/s" });
    const fulfilled = holdTimes.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    figures.push({ name: "agent.concurrent_route_p99_ms", value: round(percentile(fulfilled, 99)), unit: "ms" });
    void started;

    // 3. Deadline adherence: the edge never answers.
    const deadlineN = opts.quick ? 100 : 500;
    const late: number[] = [];
    // Calls arrive 10 ms apart (100 calls/s, ~70 in flight), as real traffic does, rather than all ending input in the same millisecond.
    await Promise.all(
      Array.from({ length: deadlineN }, async (_, i) => {
        await idle(i * 10);
        late.push((await call("never", String(400_000 + i))) - EDGE_TIMEOUT_MS);
      }),
    );
    figures.push({ name: "agent.deadline_late_max_ms", value: round(Math.max(...late)), unit: "ms" });
    figures.push({ name: "agent.deadline_within_50ms_pct", value: round((100 * late.filter((l) => l <= 50).length) / late.length, 1), unit: "%" });
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, idle(15_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await asterisk.close();
    await edge.close();
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const figures = await runAgentBench({ quick: process.argv.includes("--quick") });
  for (const f of figures) console.log(JSON.stringify(f));
}
