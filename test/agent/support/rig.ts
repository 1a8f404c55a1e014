import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { destinationsFile } from "../../../shared/destinations-file.js";
import type { NodeConfigInput, NodesFile } from "../../../shared/node.js";
import { startAgent, type Agent, type AgentOptions } from "../../../pbx-agent/src/agent.js";
import type { CallReport } from "../../../pbx-agent/src/call/run-node.js";
import type { AgentConfig } from "../../../pbx-agent/src/config/env.js";
import { createLogger } from "../../../pbx-agent/src/observability/log.js";
import { startFakeAsterisk, type FakeAsterisk, type FakeAsteriskOptions, type PlaceCallOptions } from "../../fake-asterisk/index.js";
import { startFakeEdge, type FakeEdge } from "./fake-edge.js";

export const DESTINATIONS = destinationsFile.parse({
  types: { "1": { context: "to-campaign", extension: "{id}", priority: 1 } },
  default: { context: "crm-bridge-route", extension: "{type}-{id}", priority: 1 },
  fallback: { context: "crm-bridge-fallback", extension: "s", priority: 1 },
});

export const SUCCESS = { type: 1, id: 10 };
export const FAILURE = { type: 3, id: 20 };

/** Polls `check` until it returns something truthy (for state the fake Asterisk does not see, like agent reports). */
export async function until<T>(check: () => T | undefined | null | false, timeoutMs = 5000, what = "condition"): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export type Rig = {
  asterisk: FakeAsterisk;
  edge: FakeEdge;
  agent: Agent;
  config: AgentConfig;
  reports: CallReport[];
  /** The agent's JSON log lines. */
  logs: string[];
  /** Places a call into `Stasis(crm-bridge,<tenant>,<node>)`, from `caller` when given. */
  call(node: string, tenant?: string, caller?: CallerOptions): string;
  report(channelId: string, timeoutMs?: number): Promise<CallReport>;
  /** Waits for the n-th (0-based) PlaybackStarted / PlaybackFinished on the channel. */
  playback(channelId: string, which: "PlaybackStarted" | "PlaybackFinished", n?: number, timeoutMs?: number): Promise<{ id: string; media: string }>;
  /** Commands the agent sent for one channel, as "METHOD path" lines (playback stops included by id). */
  commandsFor(channelId: string): string[];
  node(id: string, n: NodeConfigInput, tenant?: string): void;
  close(): Promise<void>;
};

export type CallerOptions = Pick<PlaceCallOptions, "callerNumber" | "callerName" | "callerPresentation" | "variables">;

export type RigOptions = {
  asterisk?: FakeAsteriskOptions;
  /** Use this fake Asterisk instead of starting one (it is closed with the rig). */
  existingAsterisk?: FakeAsterisk;
  /** Do not wait for the first connection. */
  noWait?: boolean;
  ariUrl?: string;
  ariPassword?: string;
  edgeTimeoutMs?: number;
  nodesFile?: NodesFile | null;
  edgeUrl?: string;
  stateDir?: string;
  agent?: AgentOptions;
  nodeCacheTtlMs?: number;
  shutdownGraceMs?: number;
  /** Other agents' apps on the same Asterisk (ARI_PEER_APPS / ARI_PEER_DEAD_MS); default none. */
  peers?: { apps: string[]; deadMs: number };
};

export async function startRig(o: RigOptions = {}): Promise<Rig> {
  const asterisk = o.existingAsterisk ?? (await startFakeAsterisk({ playbackMs: 100, ...o.asterisk }));
  const edge = await startFakeEdge();
  const config: AgentConfig = {
    ari: { url: o.ariUrl ?? asterisk.url, username: asterisk.username, password: o.ariPassword ?? asterisk.password, app: asterisk.app, reconnectMaxMs: 1000 },
    peers: o.peers ?? { apps: [], deadMs: 3000 },
    edge: { url: o.edgeUrl ?? edge.url, key: edge.key },
    edgeTimeoutMs: o.edgeTimeoutMs ?? 500,
    destinations: DESTINATIONS,
    nodesFile: o.nodesFile ?? null,
    stateDir: o.stateDir ?? mkdtempSync(join(tmpdir(), "agent-rig-")),
    metrics: { port: 0, host: "127.0.0.1" },
    nodeCacheTtlMs: o.nodeCacheTtlMs ?? 30_000,
    shutdownGraceMs: o.shutdownGraceMs ?? 10_000,
    confirmCallerMedia: "sound:if-correct-press,sound:digits/1",
    logLevel: "silent",
  };
  const reports: CallReport[] = [];
  const logs: string[] = [];
  const agent = await startAgent(config, {
    logger: createLogger(process.env.AGENT_TEST_LOG ?? "info", { write: (line: string) => void logs.push(line) }),
    ...o.agent,
    onCallEnd: (r) => {
      reports.push(r);
      o.agent?.onCallEnd?.(r);
    },
  });
  if (!o.noWait) {
    await agent.ready;
    await asterisk.waitForApp();
  }
  // Playback events by channel, indexed incrementally: hundreds of concurrent waiters must not rescan the whole recording on every change.
  type Pb = { id: string; media_uri: string; target_uri: string };
  const byChannel = new Map<string, { PlaybackStarted: Pb[]; PlaybackFinished: Pb[] }>();
  let cursor = 0;
  const playbackEvents = (id: string, which: "PlaybackStarted" | "PlaybackFinished"): Pb[] => {
    const all = asterisk.events;
    if (cursor > all.length) cursor = 0; // records were cleared
    for (; cursor < all.length; cursor++) {
      const e = all[cursor]!.event as { type: string; playback?: Pb };
      if ((e.type === "PlaybackStarted" || e.type === "PlaybackFinished") && e.playback) {
        const ch = e.playback.target_uri.replace(/^channel:/, "");
        let entry = byChannel.get(ch);
        if (!entry) byChannel.set(ch, (entry = { PlaybackStarted: [], PlaybackFinished: [] }));
        entry[e.type].push(e.playback);
      }
    }
    return byChannel.get(id)?.[which] ?? [];
  };
  return {
    asterisk,
    edge,
    agent,
    config,
    reports,
    logs,
    call: (node, tenant = "acme", caller = {}) => asterisk.placeCall({ args: [tenant, node], ...caller }),
    report: (id, timeoutMs = 10_000) => until(() => reports.find((r) => r.callId === id), timeoutMs, `report of ${id}`),
    playback: async (id, which, n = 0, timeoutMs = 10_000) => {
      const pb = await asterisk.waitFor(() => playbackEvents(id, which)[n], timeoutMs, `${which} #${n} on ${id}`);
      return { id: pb.id, media: pb.media_uri };
    },
    commandsFor: (id) =>
      asterisk.commands
        .filter((c) => c.path.includes(id) || (c.path.startsWith("/playbacks/") && playbackEvents(id, "PlaybackStarted").some((p) => c.path.endsWith(p.id))))
        .map((c) => `${c.method} ${c.path.replace(`/channels/${id}`, "")}${c.query.variable ? ` ${String(c.query.variable)}=${String(c.query.value ?? "")}` : ""}${c.query.context ? ` ${String(c.query.context)},${String(c.query.extension)},${String(c.query.priority)}` : ""}`),
    node: (id, n, tenant = "acme") => {
      edge.setNode(tenant, id, n);
    },
    close: async () => {
      await agent.stop({ graceMs: 0 });
      await asterisk.close();
      await edge.close();
    },
  };
}
