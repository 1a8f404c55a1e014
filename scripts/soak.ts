import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { percentile, round } from "../bench/figures.js";
import { startWholePath, type Landed } from "../test/support/whole-path.js";

/**
 * `npm run soak [-- --seconds 300 --rate 10]`: calls at a steady rate through the whole path
 * while the CRM randomly hangs, errors, answers garbage or answers slowly; the edge restarts once
 * and the ARI WebSocket drops once. Bounded in calls and time; stops by itself.
 */
export type SoakReport = {
  seconds: number;
  placed: number;
  /** Attempts that Asterisk refused because no agent was attached at that instant (WebSocket drop). */
  notAcceptedByPbx: number;
  routed: number;
  /** Landed where the CRM's answer says. */
  right: number;
  /** Landed at the failure destination although the CRM had a good answer: a safe fallback (edge restarting, deadline). */
  safeFallback: number;
  /** Landed somewhere the CRM's answer cannot explain. */
  wrong: number;
  routeP99Ms: number;
  agentRssStartMb: number;
  /** After a tenth of the run: V8 grows its heap to its working size first, so "flat" is judged from here. */
  agentRssWarmMb: number;
  agentRssEndMb: number;
  /** One sample a minute (or ten over a short run), from the first call on. */
  agentRssSeriesMb: number[];
  /** Largest distance of any later sample from the one at minute 5 (a tenth of a short run), in %: the ±10 % criterion. */
  agentRssDriftFromWarmPct: number;
  agentAlive: boolean;
  /** Agent log lines holding a full customer id or the agent key: must be 0. */
  leakyLogLines: number;
  wrongSamples: string[];
  /** Calls that never left Stasis, with what the agent last did for them. */
  unroutedSamples: string[];
};

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

export async function runSoak(opts: { seconds: number; rate: number; log?: (s: string) => void }): Promise<SoakReport> {
  const log = opts.log ?? (() => undefined);
  const w = await startWholePath({ edgeTimeoutMs: 1000, playbackMs: 150 });
  try {
    const put = async (path: string, body: unknown) => {
      const r = await w.api("PUT", `/v1/tenants/acme${path}`, body);
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    };
    await put("/connectors/chaos", { kind: "webhook", url: `${w.crmUrl}/u/soak/contract/chaos`, timeoutMs: 500, cache: { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 } });
    await put("/nodes/soak", { name: "soak", interaction: "crm_destination", connector: "chaos", timeoutSeconds: 2, successDestination: { type: 1, id: 10 }, failureDestination: { type: 3, id: 20 } });
    const pid = w.agent.child.pid!;
    await w.call("soak", "1000#"); // warm up: node config fetched, connections open
    const rssStart = rssMb(pid);

    const total = Math.round(opts.seconds * opts.rate);
    const results: Array<Promise<{ id: string; landed: Landed | null; error: string }>> = [];
    let seq = 0;
    const started = Date.now();
    const events = { restart: false, drop: false };
    let rssWarm = NaN;
    const series: number[] = [rssStart];
    const sampleEveryMs = Math.min(60_000, (opts.seconds * 1000) / 10);
    const warmAtMs = Math.min(300_000, opts.seconds * 100);
    const sampler = setInterval(() => {
      const mb = rssMb(pid);
      series.push(mb);
      if (Number.isNaN(rssWarm) && Date.now() - started >= warmAtMs) rssWarm = mb;
      log(`agent RSS ${mb.toFixed(1)} MB`);
    }, sampleEveryMs);
    while (seq < total && Date.now() - started < opts.seconds * 1000 + 5000) {
      const due = started + (seq * 1000) / opts.rate;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      const elapsed = (Date.now() - started) / (opts.seconds * 1000);
      if (!events.restart && elapsed > 0.33) {
        events.restart = true;
        log("restarting the edge");
        void w.restartEdge().then(
          () => log("edge back"),
          (e: unknown) => log(`edge restart failed: ${String(e)}`),
        );
      }
      if (!events.drop && elapsed > 0.66) {
        events.drop = true;
        log(`dropping the ARI WebSocket at ${new Date().toISOString().slice(11, 23)}`);
        void fetch(`${w.control}/websocket/drop`, { method: "POST" }).then(
          (r) => log(`WebSocket dropped (${r.status})`),
          (e: unknown) => log(`WebSocket drop request failed: ${String(e)}`),
        );
      }
      const id = String(100000 + seq++);
      results.push(
        w.call("soak", `${id}#`, { timeoutMs: 15_000, gapMs: 5 }).then(
          (landed) => ({ id, landed, error: "" }),
          (e: unknown) => ({ id, landed: null, error: String(e) }),
        ),
      );
    }
    const attempted = await Promise.all(results);
    // What the agent made of the drop and the edge restart (its connection and reconnect-check lines).
    for (const l of w.agent.output.filter((x) => /"msg":"ari[ :]/.test(x))) log(`agent: ${l.slice(0, 240)}`);
    clearInterval(sampler);
    const rssEnd = rssMb(pid);
    series.push(rssEnd);
    const afterWarm = series.slice(series.indexOf(rssWarm));
    const drift = Number.isNaN(rssWarm) ? NaN : Math.max(...afterWarm.map((mb) => Math.abs(mb - rssWarm) / rssWarm)) * 100;
    // While the agent's WebSocket is down, Asterisk's Stasis() itself fails and the dialplan goes
    // on: such calls never reach the agent, so they are not "placed" calls.
    const done = attempted.filter((d) => !/place call: 409/.test(d.error));

    // Routing time: last DTMF the fake sent → the continue command the agent sent, per channel.
    const evs = (await (await fetch(`${w.control}/events`)).json()) as Array<{ time: string; delivered?: boolean; event: { type: string; channel?: { id: string }; playback?: { id: string; target_uri: string } } }>;
    const cmds = (await (await fetch(`${w.control}/commands`)).json()) as Array<{ time: string; method: string; path: string }>;
    const lastDigit = new Map<string, number>();
    for (const e of evs) if (e.event.type === "ChannelDtmfReceived" && e.event.channel) lastDigit.set(e.event.channel.id, Date.parse(e.time));
    const routeMs: number[] = [];
    for (const c of cmds) {
      const m = /^\/channels\/([^/]+)\/continue$/.exec(c.path);
      const t0 = m ? lastDigit.get(m[1]!) : undefined;
      if (t0 !== undefined) routeMs.push(Date.parse(c.time) - t0);
    }

    let right = 0;
    let safeFallback = 0;
    let wrong = 0;
    const wrongSamples: string[] = [];
    for (const { landed } of done) {
      if (!landed || landed.state === "inStasis") continue;
      // Judge by the digits the agent collected (what the CRM was asked): digits typed while the
      // WebSocket was down never reach the agent, exactly as with a real Asterisk.
      const id = landed.vars.CUSTOMER_ID ?? "";
      const pick = ((await (await fetch(`${w.crmUrl}/_chaos?id=${id}`)).json()) as { pick: string }).pick;
      const good = pick === "good" || pick === "slow";
      const goodTarget = id.endsWith("7") ? "crm-bridge-route/3-7" : Number(id.at(-1)) % 2 === 0 ? "to-campaign/10" : "crm-bridge-route/3-20";
      const at = `${landed.context}/${landed.extension}`;
      if (good && at === goodTarget) right++;
      else if (!good && at === "crm-bridge-route/3-20") right++;
      else if (at === "crm-bridge-route/3-20") safeFallback++;
      else {
        wrong++;
        if (wrongSamples.length < 10) wrongSamples.push(`${id}: CRM ${pick}, landed ${at}`);
      }
    }
    const routed = done.filter((d) => d.landed && d.landed.state !== "inStasis").length;
    const unroutedSamples: string[] = [];
    for (const d of done.filter((x) => !x.landed).slice(0, 5)) {
      const ch = /call (\S+) on/.exec(d.error)?.[1];
      // Its playbacks' events and commands too, and which events the agent never got (sent while no WebSocket was attached).
      const isMine = (e: (typeof evs)[number]) => !!ch && (e.event.channel?.id === ch || e.event.playback?.target_uri === `channel:${ch}`);
      const playbacks = new Set(evs.filter(isMine).flatMap((e) => (e.event.playback ? [e.event.playback.id] : [])));
      const mine = ch ? cmds.filter((c) => c.path.includes(ch) || [...playbacks].some((p) => c.path.endsWith(p))).map((c) => `${c.time.slice(17, 23)} ${c.method} ${c.path}`) : [];
      const evsFor = evs.filter(isMine).map((e) => `${e.time.slice(17, 23)} ${e.event.type}${e.delivered === false ? " (not delivered)" : ""}`);
      const agentLines = ch ? w.agent.output.filter((l) => l.includes(ch)).map((l) => l.slice(0, 300)) : [];
      unroutedSamples.push(`${d.id}: ${d.error.slice(0, 120)} | commands: ${mine.join(", ")} | events: ${evsFor.join(", ")} | agent: ${agentLines.join(" / ")}`);
    }
    return {
      seconds: opts.seconds,
      placed: done.length,
      notAcceptedByPbx: attempted.length - done.length,
      routed,
      right,
      safeFallback,
      wrong,
      routeP99Ms: round(percentile(routeMs, 99)),
      agentRssStartMb: round(rssStart),
      agentRssWarmMb: round(rssWarm),
      agentRssEndMb: round(rssEnd),
      agentRssSeriesMb: series.map((mb) => round(mb, 1)),
      agentRssDriftFromWarmPct: round(drift),
      agentAlive: w.agent.child.exitCode === null,
      leakyLogLines: w.agent.output.filter((l) => /\b1\d{5}\b/.test(l) || l.includes(w.tenant.agent)).length,
      wrongSamples,
      unroutedSamples,
    };
  } finally {
    await w.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { seconds: { type: "string" }, rate: { type: "string" } } });
  const report = await runSoak({ seconds: Number(values.seconds ?? 300), rate: Number(values.rate ?? 10), log: (s) => console.error(`[soak] ${s}`) });
  console.log(JSON.stringify(report, null, 2));
  const ok = report.routed === report.placed && report.wrong === 0 && report.agentAlive;
  process.exit(ok ? 0 : 1);
}
