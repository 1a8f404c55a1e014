import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { AriClient, AriEvent } from "./ari/ari-client.js";
import { AriCalls, bounded, type AriCallChannel } from "./ari/ari-channel.js";
import { startAriConnection, type AriConnection } from "./ari/connection.js";
import { heartbeatVariable, PeerWatch } from "./ari/peers.js";
import { mediaUri, runCall, type CallDeps, type CallReport } from "./call/run-node.js";
import type { AgentConfig } from "./config/env.js";
import { fetchNode, lookupCustomer } from "./edge/client.js";
import { NodeSource } from "./nodes/node-source.js";
import { createLogger } from "./observability/log.js";
import { AgentMetrics, startMetricsServer, type MetricsServer } from "./observability/metrics.js";

export type AgentOptions = {
  logger?: Logger;
  /** Called with every finished call (tests, benchmarks). */
  onCallEnd?: (report: CallReport) => void;
  /** How long to wait after a reconnect before sending a channel that is still unknown to its failure destination. */
  orphanGraceMs?: number;
  /**
   * How long a dead peer's channel, once moved into our app, may take to arrive (StasisStart) before
   * it is sent to its failure destination instead. The move waits behind the prompt the dead agent
   * had started (one command queue per channel), so this must outlast the longest prompt.
   */
  moveStartMs?: number;
  /** How long a prompt may play without news before Asterisk is asked whether it is still playing. */
  promptCheckMs?: number;
};

const MOVE_START_MS = 10_000;
/** Longer than any prompt we play: a check costs one GET, and only finds what a lost event hid. */
const PROMPT_CHECK_MS = 60_000;

export type Agent = {
  /** Resolves once the events WebSocket is open for the first time. */
  ready: Promise<void>;
  metrics: AgentMetrics;
  metricsPort: number | null;
  activeCalls(): number;
  ariState(): string;
  /** What the agent holds right now; all zero (listeners: constant) when no call is in flight. */
  stats(): { calls: number; playbacks: number; orphans: number; clientListeners: number };
  /** SPEC 6: calls in progress get `graceMs` (SHUTDOWN_GRACE_MS, 10 s) to finish, then go to their failure destination. */
  stop(opts?: { graceMs?: number }): Promise<void>;
};

const EVENTS = ["StasisStart", "StasisEnd", "ChannelDtmfReceived", "PlaybackFinished", "ChannelHangupRequest", "ChannelDestroyed"];

/** Starts the agent with a parsed config; `main.ts` is only env parsing and signals around this. */
export async function startAgent(config: AgentConfig, opts: AgentOptions = {}): Promise<Agent> {
  const log = opts.logger ?? createLogger(config.logLevel);
  const metrics = new AgentMetrics();
  const now = () => performance.now();
  const edge = config.edge ? { baseUrl: config.edge.url, key: config.edge.key } : null;
  const nodes = new NodeSource({
    nodesFile: config.nodesFile,
    stateDir: config.stateDir,
    ttlMs: config.nodeCacheTtlMs,
    fetchNode: edge
      ? async (t, n) => {
          const started = now();
          const r = await fetchNode(edge, t, n, config.edgeTimeoutMs);
          metrics.edgeLatency.observe({ kind: "node", result: r.ok ? "ok" : r.reason }, (now() - started) / 1000);
          return r;
        }
      : null,
    onEdgeError: (tenant, node, reason) => log.warn({ tenant, node, reason }, "node config: edge unavailable, using a stored copy if any"),
  });
  const deps: CallDeps = { nodes, destinations: config.destinations, edge, edgeTimeoutMs: config.edgeTimeoutMs, lookup: lookupCustomer, now, metrics, confirmCallerMedia: config.confirmCallerMedia.split(",").map((m) => mediaUri(m.trim())).join(",") };

  let connection: AriConnection | null = null;
  const calls = new AriCalls(() => connection?.client() ?? null, now);
  const orphans = new Set<string>();
  /** A dead peer's channels we asked to move here, until their StasisStart arrives. */
  const arriving = new Map<string, () => void>();
  const moveStartMs = opts.moveStartMs ?? MOVE_START_MS;
  let draining = false;
  const idleWaiters = new Set<() => void>();
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  function startCall(ch: AriCallChannel, tenant: string, node: string) {
    metrics.activeCalls.inc();
    void runCall(ch, tenant, node, deps)
      .then((report) => {
        metrics.calls.inc({ outcome: report.outcome });
        log.info(report, "call");
        opts.onCallEnd?.(report);
      })
      .catch((err: unknown) => log.error({ callId: ch.id, err: String(err) }, "call flow crashed"))
      .finally(() => {
        calls.close(ch.id);
        orphans.delete(ch.id);
        metrics.activeCalls.dec();
        if (calls.calls.size === 0) for (const w of [...idleWaiters]) w();
      });
  }

  function onEvent(ev: AriEvent) {
    if (ev.type === "StasisStart") {
      const id = ev.channel?.id;
      if (!id) return;
      const moved = arriving.get(id);
      // A taken-over call arriving: served from here like any new call (it is in `orphans` while it moves).
      if (moved) {
        arriving.delete(id);
        moved();
      } else if (calls.calls.has(id) || orphans.has(id)) return;
      const [tenant = "", node = ""] = ev.args ?? [];
      const ch = calls.open(id, ev.channel?.caller?.number ?? "");
      // A call arriving while we shut down is not started only to be cut: straight to its failure destination.
      if (draining) ch.end({ code: "shutdown" });
      startCall(ch, tenant, node);
      return;
    }
    calls.dispatch(ev);
  }

  /** A lost PlaybackFinished would hold its call in Stasis for ever: ask Asterisk (see AriCalls.resyncPlaybacks). */
  async function checkPrompts(client: AriClient, olderThanMs: number) {
    const over = await calls.resyncPlaybacks(client, olderThanMs);
    if (over > 0) log.warn({ playbacks: over }, "ari: prompts had ended without their PlaybackFinished reaching us; their calls go on");
  }

  /**
   * Trace 03: after a WebSocket drop Asterisk keeps the channels in the app and announces none of
   * them again, and replays no event of the gap: calls that left are ended, prompts that finished
   * are marked over (their calls would otherwise wait forever), channels nobody serves are adopted.
   */
  async function sweep(client: AriClient) {
    let listed: string[];
    const askedAt = now();
    const resynced = checkPrompts(client, 0);
    try {
      listed = (await client.applications.get({ applicationName: config.ari.app })).channel_ids ?? [];
    } catch (err) {
      log.warn({ err: String(err) }, "ari: cannot list the app's channels after connecting");
      return;
    } finally {
      await resynced;
    }
    const present = new Set(listed);
    // Left while we were away; a call that started after the listing was asked for is not in it and is not gone.
    for (const [id, ch] of calls.calls) if (!present.has(id) && ch.openedAt < askedAt && ch.ownApp) ch.leave();
    const unknown = listed.filter((id) => !calls.calls.has(id) && !orphans.has(id));
    if (unknown.length === 0) return;
    // A brand-new call's StasisStart may still be on its way: give it a moment before calling a channel orphaned.
    await new Promise((r) => setTimeout(r, opts.orphanGraceMs ?? 250));
    await adopt(client, unknown, "ari: channel already in the app on connect; sending it to its failure destination");
  }

  /** Sends channels left in our own app, that nobody serves, to their failure destination. */
  async function adopt(client: AriClient, ids: string[], why: string) {
    for (const id of ids) {
      if (calls.calls.has(id) || orphans.has(id)) continue;
      orphans.add(id);
      let appData: string;
      try {
        appData = (await client.channels.get({ channelId: id })).dialplan?.app_data ?? "";
      } catch {
        orphans.delete(id);
        continue; // gone meanwhile
      }
      if (calls.calls.has(id)) continue;
      const [, tenant = "", node = ""] = appData.split(",").map((s) => s.trim());
      log.warn({ callId: id, tenant, node }, why);
      const ch = calls.open(id);
      ch.adopted = true;
      ch.end({ code: "orphaned" });
      startCall(ch, tenant, node);
    }
  }

  /**
   * A dead peer's calls, finished here. ARI controls a channel by id whichever app holds it
   * (res_stasis keeps one control per channel), so each one is moved into our app with the
   * tenant,node it entered Stasis() with, and its StasisStart runs the node from the start: the
   * prompt again, digits typed to the dead agent lost. A refused move, or one whose StasisStart does
   * not come in time (ApplicationMoveFailed would go to the dead app, not to us), goes to its
   * failure destination as before, so nothing is left in Stasis.
   */
  async function takeOver(client: AriClient, peer: string, ids: string[]) {
    await Promise.all(
      ids.map(async (id) => {
        if (calls.calls.has(id) || orphans.has(id)) return;
        orphans.add(id);
        let appData: string;
        try {
          appData = (await bounded(client.channels.get({ channelId: id }), "channels.get")).dialplan?.app_data ?? "";
        } catch {
          orphans.delete(id);
          return; // gone meanwhile
        }
        const [, tenant = "", node = ""] = appData.split(",").map((s) => s.trim());
        // The peer may only have been frozen and be back by now (a false "down"): its heartbeat is
        // read once more right before the move, which leaves the call to it if it moved.
        if (!(await peerStillDown(client, peer))) {
          orphans.delete(id);
          return;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const arrived = new Promise<void>((resolve) => {
          arriving.set(id, resolve);
          timer = setTimeout(resolve, moveStartMs);
          timer.unref();
        });
        let failure = `no StasisStart within ${moveStartMs} ms`;
        try {
          await bounded(client.channels.move({ channelId: id, app: config.ari.app, appArgs: `${tenant},${node}` }), "channels.move");
          await arrived;
        } catch (err) {
          failure = String(err);
        } finally {
          clearTimeout(timer);
          arriving.delete(id);
        }
        // Whatever the REST answer said, the StasisStart is what counts.
        if (calls.calls.has(id)) {
          log.warn({ callId: id, tenant, node }, "peer agent down: its call moved here and starts its node over");
          return;
        }
        // 404/409 (`find_control()`): the channel hung up, or left Stasis because the peer, not dead
        // after all, routed it. Routing it again would be the second routing; nothing is left to do.
        if (/Channel not found|not in Stasis/i.test(failure)) {
          orphans.delete(id);
          log.info({ callId: id, peer, reason: failure }, "peer agent down: its call left Stasis before the move; left alone");
          return;
        }
        log.warn({ callId: id, tenant, node, reason: failure }, "peer agent down: cannot move its call here; sending it to its failure destination");
        const ch = calls.open(id, "", false);
        ch.end({ code: "orphaned" });
        startCall(ch, tenant, node);
      }),
    );
  }

  // Two agents on one Asterisk: each beats its own variable and watches its peers' (see ari/peers.ts).
  const peers = new PeerWatch(config.peers.apps, config.peers.deadMs, now());
  const beatMs = Math.max(100, Math.floor(config.peers.deadMs / 3));
  let beats = 0;
  const busyPeers = new Set<string>();
  async function readPeer(client: AriClient, app: string): Promise<void> {
    const value = await bounded(client.asterisk.getGlobalVar({ variable: heartbeatVariable(app) }), "getGlobalVar").then((v) => v.value ?? "", () => null);
    const change = peers.observe(app, value, now());
    if (change === "down") log.warn({ peer: app, deadMs: config.peers.deadMs }, "peer agent down: taking over the calls left in its app");
    if (change === "up") log.info({ peer: app }, "peer agent back");
  }
  async function peerStillDown(client: AriClient, app: string): Promise<boolean> {
    await readPeer(client, app);
    return peers.isDown(app);
  }
  async function checkPeer(client: AriClient, app: string) {
    if (busyPeers.has(app)) return;
    busyPeers.add(app);
    try {
      await readPeer(client, app);
      if (!peers.isDown(app)) return;
      // Re-listed at every beat while the peer is down: a channel may still be entering its app.
      const listed = await bounded(client.applications.get({ applicationName: app }), "applications.get").then((a) => a.channel_ids ?? [], () => [] as string[]);
      const unknown = listed.filter((id) => !calls.calls.has(id) && !orphans.has(id));
      // Not awaited: a move waiting for its StasisStart must not hold up the next beat's listing (`orphans` keeps a call from being taken twice).
      if (unknown.length > 0) void takeOver(client, app, unknown).catch((err: unknown) => log.error({ peer: app, err: String(err) }, "peer takeover crashed"));
    } finally {
      busyPeers.delete(app);
    }
  }
  /**
   * Split brain. A peer moves our calls away once our heartbeat has not moved for deadMs, and ARI
   * takes commands by channel id from any connection, so a command we send after that (a timer
   * that expired while this process was frozen: SIGSTOP, a paused VM, a stalled event loop, or an
   * Asterisk HTTP we could not reach) would act on a call the peer now serves: a second `continue`,
   * variables overwritten. Our lease: the send time of the last beat Asterisk acknowledged (the
   * peer saw that value change no earlier, so it cannot find us down before leaseFrom + deadMs;
   * both agents must use the same ARI_PEER_DEAD_MS). Within half of that, commands go out at once;
   * past it, the first command waits for `renewLease`: one beat, then the listing of our own app,
   * whose round trips also let the StasisEnds queued on the WebSocket while we were frozen be
   * read first. A call no longer listed has been taken (or has ended) and gets no command.
   */
  let leaseFrom = Number.NEGATIVE_INFINITY;
  const leaseMs = config.peers.deadMs / 2;
  let renewing: Promise<void> | null = null;
  const leaseHeld = () => now() - leaseFrom < leaseMs;
  const beat = (client: AriClient) => bounded(client.asterisk.setGlobalVar({ variable: heartbeatVariable(config.ari.app), value: String(++beats) }), "setGlobalVar");
  async function renewLease(): Promise<void> {
    const client = connection?.client();
    if (!client) return; // the command itself fails: not connected
    const sentAt = now();
    await beat(client);
    const listed = new Set((await bounded(client.applications.get({ applicationName: config.ari.app }), "applications.get")).channel_ids ?? []);
    let lost = 0;
    for (const [id, ch] of calls.calls) {
      if (listed.has(id) || ch.openedAt >= sentAt || !ch.ownApp) continue;
      lost++;
      ch.leave();
    }
    if (lost > 0) log.warn({ calls: lost }, "agent was stalled past its peers' dead time: calls no longer in its app were taken over or ended; nothing more is sent for them");
    leaseFrom = Math.max(leaseFrom, sentAt);
    calls.renewedAt = now();
  }
  calls.fence = () => (leaseHeld() ? Promise.resolve() : (renewing ??= renewLease().finally(() => (renewing = null))));
  calls.inOurApp = async (id) => {
    const client = connection?.client();
    if (!client) return true; // the routing command itself fails: not connected
    const listed = (await bounded(client.applications.get({ applicationName: config.ari.app }), "applications.get")).channel_ids ?? [];
    return listed.includes(id);
  };

  const heartbeat = setInterval(() => {
    const client = connection?.state() === "connected" ? connection.client() : null;
    if (!client) return;
    // Beating on while draining: the calls still finishing here are not a dead peer's to take.
    // A lapsed lease is only renewed with the listing (calls.fence), never by a bare beat.
    if (leaseHeld()) {
      // Sent while the lease held and written within leaseMs of that: our value never stood still for
      // deadMs in between, so no peer can have found us down, even if the old lease ran out meanwhile.
      const sentAt = now();
      void beat(client).then(
        () => void (now() - sentAt < leaseMs && (leaseFrom = Math.max(leaseFrom, sentAt))),
        () => undefined,
      );
    } else void calls.fence().catch(() => undefined);
    if (!draining) for (const app of config.peers.apps) void checkPeer(client, app);
    // Also covers a reconnect check that failed (a timeout, a 500): the call is not left waiting for the next drop.
    void checkPrompts(client, opts.promptCheckMs ?? PROMPT_CHECK_MS);
  }, beatMs);
  heartbeat.unref();

  let metricsServer: MetricsServer | null = null;
  if (config.metrics) {
    metricsServer = await startMetricsServer(metrics, config.metrics.port, config.metrics.host, () => {
      const ari = connection?.state() ?? "connecting";
      return { ok: ari === "connected", ari, calls: calls.calls.size };
    });
  }

  connection = startAriConnection({
    ...config.ari,
    log,
    metrics,
    events: EVENTS,
    onEvent,
    onConnected: (client) => {
      markReady();
      void sweep(client);
    },
  });

  const waitIdle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (calls.calls.size === 0) return resolve();
      const done = () => {
        clearTimeout(t);
        idleWaiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      idleWaiters.add(done);
    });

  let stopping: Promise<void> | null = null;
  return {
    ready,
    metrics,
    metricsPort: metricsServer?.port ?? null,
    activeCalls: () => calls.calls.size,
    stats: () => {
      const c = connection?.client();
      return {
        calls: calls.calls.size,
        playbacks: calls.playbacks.size,
        orphans: orphans.size,
        clientListeners: c ? c.eventNames().reduce((n, e) => n + c.listenerCount(e), 0) : 0,
      };
    },
    ariState: () => connection?.state() ?? "connecting",
    stop(o = {}) {
      stopping ??= (async () => {
        draining = true;
        const grace = o.graceMs ?? config.shutdownGraceMs;
        log.info({ calls: calls.calls.size, graceMs: grace }, "shutting down: letting calls in progress finish");
        await waitIdle(grace);
        if (calls.calls.size > 0) {
          log.warn({ calls: calls.calls.size }, "shutdown grace over: sending the remaining calls to their failure destination");
          for (const ch of calls.calls.values()) ch.end({ code: "shutdown" });
          await waitIdle(5000);
        }
        clearInterval(heartbeat);
        await connection?.stop();
        await metricsServer?.close();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}
